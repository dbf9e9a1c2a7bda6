"""Celery tasks: thin wrappers around services/detect.py and services/sweep.py. Arguments are
ids only, never tokens.

Every task is idempotent (it reads Cinder and compare-and-sets the mirror), so late acks are
safe: a message whose worker died is delivered again and simply does the work again. The beat's
ticks (detect, sweep) first claim their period in the database, so a second beat's copy of a
tick does nothing. They retry only when the cloud is unreachable (errors.Unavailable), with
exponential back-off and jitter and a finite number of attempts; any other error is logged and
left for the next beat.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from snapshots.cloud.errors import Unavailable

log = logging.getLogger(__name__)


def _sent_at(request, interval: float):
    """When the beat sent this tick: its `expires` (set to one interval after sending by the
    beat schedule) less that interval; None when the message carries no expiry."""
    from datetime import datetime, timedelta

    expires = getattr(request, "expires", None)
    if not expires:
        return None
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    return expires - timedelta(seconds=interval)


@shared_task(
    bind=True,
    name="snapshots.tasks.detect",
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
def detect(self) -> str:
    """What changed since the last tick (beat, every DETECT_INTERVAL)."""
    from snapshots.services import detect as service

    interval = settings.DETECT_INTERVAL
    if not service.claim_tick("detect", interval, sent_at=_sent_at(self.request, interval)):
        return "detect skipped: this period's tick already ran"
    return service.detect().summary()


@shared_task(
    bind=True,
    name="snapshots.tasks.sweep",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Unavailable,),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=2,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def sweep(self) -> str:
    """A few more pages of the inventory sweep (beat, every SWEEP_TICK)."""
    from snapshots.services import detect, locks
    from snapshots.services import sweep as service

    interval = settings.SWEEP_TICK
    if not detect.claim_tick("sweep", interval, sent_at=_sent_at(self.request, interval)):
        return "sweep skipped: this period's tick already ran"
    try:
        return service.sweep_tick().summary()
    except locks.LockHeld as held:
        log.info("sweep skipped: %s", held)
        return f"skipped: {held}"


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
    """The whole inventory at once (on demand; the beat spreads it out with `sweep`)."""
    from snapshots.services import locks
    from snapshots.services import sync as service

    try:
        return service.sync_snapshots().summary()
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
    """With `snapshot_id`, that snapshot now (an action just changed it); without, one
    detection tick (the name the beat used before detection)."""
    from snapshots.services import sync as service

    return service.track_snapshots(snapshot_id=snapshot_id).summary()


@shared_task(name="snapshots.tasks.forget_operations", acks_late=True, time_limit=120)
def forget_operations() -> str:
    """Idempotency keys past the double-submit window (beat, hourly)."""
    from snapshots.services import idempotency

    return f"forgot {idempotency.forget()} idempotency keys"
