"""Steps 5 and 6 for the actions that make a new snapshot (create, manage): the call, then the
new row in the mirror, its audit event and its tracking."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.utils import timezone

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.cloud.dto import SnapshotData
from snapshots.models import Snapshot
from snapshots.services import idempotency, mirror, queue
from snapshots.services.snapshot_change import call_failed
from snapshots.services.snapshots import TRACK_TASK, ActionResult, Attempt, write_audit

log = logging.getLogger(__name__)


def make_snapshot(
    attempt: Attempt,
    call: Callable[[], SnapshotData],
    *,
    volume_id: str,
    name: str,
    description: str,
) -> SnapshotData:
    """Make the call; a failure is handled by `call_failed` and re-raised."""
    sent_at = timezone.now()
    try:
        data = call()
    except errors.CloudError as exc:
        # What the worker looks for when the answer was lost: a snapshot of this volume with
        # this name and description, made around the time the request went out.
        request = {
            "volume_id": volume_id,
            "name": name,
            "description": description,
            "sent_at": sent_at.isoformat(),
        }
        call_failed(attempt, exc, request=request)
        raise
    # The answer carries neither project nor progress (no extended attributes): the snapshot
    # lives in the token's project and starts at 0 %.
    return dataclasses.replace(
        data,
        project_id=data.project_id or attempt.scope.project_id,
        progress=data.progress if data.progress is not None else 0,
    )


def record_new_snapshot(
    attempt: Attempt,
    data: SnapshotData,
    *,
    volume_name: str | None,
    verb: str,
    then: Callable[[Snapshot], None] | None = None,
) -> ActionResult:
    """Mirror the new snapshot, audit, settle the key and track it; `then` adds the action's
    own writes to the same transaction. Cinder has acted: a failure of the dashboard's own
    database is logged and the result says it was not recorded (`verb` names the action)."""
    try:
        with transaction.atomic():
            row, _ = mirror.apply(data, source=ChangeSource.ACTION, volume_name=volume_name)
            write_audit(attempt, Outcome.SUCCESS, receipt=data.receipt, target=row)
            if attempt.key:
                idempotency.finish(key=attempt.key, target_id=row.id)
            queue.enqueue(TRACK_TASK, snapshot_id=row.id)
            if then is not None:
                then(row)
    except DatabaseError:
        log.exception("snapshot %s was %s but could not be recorded", data.id, verb)
        return ActionResult(snapshot=None, recorded=False)
    return ActionResult(snapshot=row)
