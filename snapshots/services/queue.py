"""Asking the workers for follow-up work. Task arguments are ids only, never tokens or objects.

The broker being down never fails the request that asked: the action it follows is done in
the cloud and recorded. The message is logged as not sent and the work is left where the
beat's own ticks find it (a snapshot to track is made due now; the track tick reads every due
transitional snapshot, and the sync reads the rest).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

TRACK_TASK = "snapshots.tasks.track"
# A publish waits a few seconds at most for the broker, then gives up (the beat catches up): a
# refused connection is retried twice, and a broker that accepts but does not answer (paused, or
# behind a dead link) times out instead of holding the request for minutes.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}
SOCKET_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}


def enqueue(task: str, **kwargs: Any) -> None:
    """Send Celery task `task` (its dotted name) once the current transaction commits."""
    transaction.on_commit(lambda: deliver(task, kwargs), robust=True)


def deliver(task: str, kwargs: dict[str, Any]) -> bool:
    """Send now; on a broker failure log it, leave the work to the beat, return False."""
    try:
        send(task, kwargs)
    except Exception as exc:  # any broker or connection error: the request must go on
        log.warning(
            "could not send %s (%s: %s); the beat's ticks will do it", task, type(exc).__name__, exc
        )
        leave_to_the_beat(task, kwargs)
        return False
    return True


def send(task: str, kwargs: dict[str, Any]) -> None:
    from dashboard.celery import app

    if app.conf.broker_url.startswith(("redis://", "rediss://")):
        # A connection of its own with short socket timeouts (merged into the configured
        # transport options); the workers' consuming connections keep theirs.
        with app.connection_for_write(transport_options=SOCKET_TIMEOUTS) as connection:
            app.send_task(
                task, kwargs=kwargs, connection=connection, retry=True, retry_policy=RETRY_POLICY
            )
        return
    app.send_task(task, kwargs=kwargs, retry=True, retry_policy=RETRY_POLICY)


def leave_to_the_beat(task: str, kwargs: dict[str, Any]) -> None:
    """Make sure the periodic ticks pick up what the lost message asked for."""
    snapshot_id = kwargs.get("snapshot_id")
    if task == TRACK_TASK and snapshot_id:
        from snapshots.models import Snapshot

        Snapshot.objects.filter(pk=snapshot_id).update(next_check_at=timezone.now())
