"""Celery tasks: thin wrappers around services/sync.py. Arguments are ids only, never tokens.

Both tasks are idempotent (they read Cinder and compare-and-set the mirror), so late acks are
safe: a message whose worker died is delivered again and simply does the work again. They retry
only when the cloud is unreachable (errors.Unavailable), with exponential back-off and jitter and
a finite number of attempts; any other error is logged and left for the next beat.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from snapshots.cloud.errors import Unavailable

log = logging.getLogger(__name__)


@shared_task(
    name="snapshots.tasks.sync",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Unavailable,),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def sync() -> str:
    """The whole inventory (beat, every SYNC_INTERVAL)."""
    from snapshots.services import locks, reachability
    from snapshots.services import sync as service

    try:
        return service.sync_snapshots(gateway=reachability.service_gateway()).summary()
    except locks.LockHeld as held:
        log.info("sync skipped: %s", held)
        return f"skipped: {held}"


@shared_task(
    name="snapshots.tasks.track",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Unavailable,),
    retry_backoff=2,
    retry_backoff_max=10,
    retry_jitter=True,
    max_retries=2,
    soft_time_limit=60,
    time_limit=90,
)
def track(snapshot_id: str | None = None) -> str:
    """Transitional snapshots that are due (beat, every TRACK_INTERVAL); with `snapshot_id`,
    that one now (an action just changed it)."""
    from snapshots.services import reachability
    from snapshots.services import sync as service

    gateway = reachability.service_gateway()  # records each call's outcome for the banner
    result = service.track_snapshots(snapshot_id=snapshot_id, gateway=gateway)
    if not result.calls:
        reachability.probe_if_down(gateway)
    return result.summary()


@shared_task(name="snapshots.tasks.forget_operations", acks_late=True, time_limit=120)
def forget_operations() -> str:
    """Idempotency keys past the double-submit window (beat, hourly)."""
    from snapshots.services import idempotency

    return f"forgot {idempotency.forget()} idempotency keys"
