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


def _cloud_task(
    name: str,
    *,
    backoff: int,
    backoff_max: int,
    retries: int = 2,
    soft_time_limit: int = 60,
    time_limit: int = 90,
    bind: bool = False,
):
    """A task that reads Cinder: late acks, and retries with jittered exponential back-off only
    while the cloud is unreachable."""
    return shared_task(
        bind=bind,
        name=f"snapshots.tasks.{name}",
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(Unavailable,),
        retry_backoff=backoff,
        retry_backoff_max=backoff_max,
        retry_jitter=True,
        max_retries=retries,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
    )


@_cloud_task("detect", backoff=2, backoff_max=10, bind=True)
def detect(self) -> str:
    """What changed since the last tick (beat, every DETECT_INTERVAL; while Cinder's
    notifications flow, one tick every DETECT_EVENTS_INTERVAL as their safety net)."""
    from snapshots.services import detect as service
    from snapshots.services import reachability

    if not service.claim_detect_tick(sent_at=_sent_at(self.request, settings.DETECT_INTERVAL)):
        return "detect skipped: this period's tick already ran"
    # Each call's outcome recorded: the outage banner follows the first failed or good call.
    return service.detect(gateway=reachability.service_gateway()).summary()


@_cloud_task(
    "sweep",
    backoff=5,
    backoff_max=60,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    bind=True,
)
def sweep(self) -> str:
    """A few more pages of the inventory sweep (beat, every SWEEP_TICK)."""
    from snapshots.services import detect, locks, reachability
    from snapshots.services import sweep as service

    interval = settings.SWEEP_TICK
    if not detect.claim_tick("sweep", interval, sent_at=_sent_at(self.request, interval)):
        return "sweep skipped: this period's tick already ran"
    try:
        return service.sweep_tick(gateway=reachability.service_gateway()).summary()
    except locks.LockHeld as held:
        log.info("sweep skipped: %s", held)
        return f"skipped: {held}"


@_cloud_task(
    "sync",
    backoff=5,
    backoff_max=120,
    retries=4,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def sync() -> str:
    """The whole inventory at once (on demand; the beat spreads it out with `sweep`)."""
    from snapshots.services import locks, reachability
    from snapshots.services import sync as service

    try:
        return service.sync_snapshots(gateway=reachability.service_gateway()).summary()
    except locks.LockHeld as held:
        log.info("sync skipped: %s", held)
        return f"skipped: {held}"


@_cloud_task("track", backoff=2, backoff_max=10)
def track(snapshot_id: str | None = None) -> str:
    """With `snapshot_id`, that snapshot now (an action just changed it); without, one
    detection tick (the name the beat used before detection)."""
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


@shared_task(
    name="snapshots.tasks.reconcile",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=40,
    soft_time_limit=60,
    time_limit=90,
)
def reconcile(self, key: str) -> str:
    """Find out what an action whose answer never came did (key: its idempotency key)."""
    from snapshots.cloud.credentials import service_gateway
    from snapshots.cloud.errors import CloudError
    from snapshots.models import Operation
    from snapshots.services import reconcile as service

    try:
        state = service.reconcile_operation(key=key, gateway=service_gateway())
    except CloudError as exc:
        log.info("reconcile %s: the cloud cannot say yet (%s)", key[:6], exc)
        state = Operation.UNKNOWN
    if state == Operation.UNKNOWN:
        raise self.retry(countdown=5)
    return state


@shared_task(name="snapshots.tasks.reconcile_unsettled", acks_late=True, time_limit=120)
def reconcile_unsettled() -> str:
    """The safety net (beat): actions still unknown, in case their own task was lost."""
    from snapshots.cloud.credentials import service_gateway
    from snapshots.cloud.errors import CloudError
    from snapshots.services import reconcile as service

    states = []
    for key in service.unsettled_keys():
        try:
            states.append(service.reconcile_operation(key=key, gateway=service_gateway()))
        except CloudError as exc:
            log.info("reconcile: the cloud cannot say yet (%s)", exc)
            break
    return f"reconciled {len(states)}: {', '.join(states)}"


@shared_task(name="snapshots.tasks.clear_sessions", acks_late=True, time_limit=300)
def clear_sessions() -> str:
    """Expired sessions (with the tokens they hold) and sign-in counters (beat, hourly)."""
    from snapshots.services import sessions

    return sessions.clear_expired_sessions()


@shared_task(name="snapshots.tasks.log_audit_head", acks_late=True, time_limit=60)
def log_audit_head() -> str:
    """The audit chain's newest id and hash, into the log: an anchor outside the database."""
    from snapshots.services import audit

    return audit.log_head()


@_cloud_task("track_volumes", backoff=2, backoff_max=10)
def track_volumes(volume_id: str | None = None) -> str:
    """Volumes in a transitional status (beat, every TRACK_INTERVAL); with `volume_id`, that one
    now (a create from a snapshot or a revert just changed it)."""
    from snapshots.services import volume_tracking

    return volume_tracking.track_volumes(volume_id=volume_id).summary()


@_cloud_task("refresh_quotas", backoff=5, backoff_max=60, soft_time_limit=120, time_limit=150)
def refresh_quotas(project_id: str | None = None) -> str:
    """Quota usage of the projects that are due (beat, every QUOTA_INTERVAL), or of one after a
    create."""
    from snapshots.services import quota

    return quota.refresh_quotas([project_id] if project_id else None).summary()


@_cloud_task("refresh_messages", backoff=5, backoff_max=60)
def refresh_messages() -> str:
    """Cinder's user messages, while a mirrored snapshot or volume is in error (beat)."""
    from snapshots.services import messages

    return messages.refresh_messages().summary()
