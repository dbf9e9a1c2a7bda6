"""Steps 5 and 6 of an action on an existing snapshot (services/snapshots.py lists them all):
the one call to Cinder, what a failed call leaves (refused, or unknown and handed to the worker)
and, once Cinder has acted, the snapshot read back, mirrored and audited."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.cloud.dto import Receipt, SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot
from snapshots.permissions import Action
from snapshots.services import audit, idempotency, mirror, queue
from snapshots.services.snapshots import (
    RECONCILE_TASK,
    TRACK_TASK,
    ActionResult,
    Attempt,
    Caller,
    begin,
    write_audit,
)

log = logging.getLogger(__name__)


def change_snapshot(
    caller: Caller,
    snapshot: Snapshot,
    action: str,
    permission: Action,
    parameters: dict[str, Any],
    *,
    refusal: str,
    call: Callable[[], Receipt | None],
    request: dict[str, Any] | None = None,
    audit_parameters: bool = True,
) -> ActionResult:
    """Every step for a change that one call makes to an existing snapshot: `begin`, then
    `call` (what the worker needs to find out an unknown outcome is `request`, the parameters
    by default)."""
    attempt, earlier = begin(
        caller,
        snapshot,
        action,
        permission,
        parameters,
        refusal=refusal,
        audit_parameters=audit_parameters,
    )
    if earlier is not None:
        return earlier
    return change(attempt, call, request=parameters if request is None else request)


def call_failed(attempt: Attempt, exc: errors.CloudError, *, request: dict[str, Any]) -> None:
    """Step 5 went wrong. A refusal or what never reached Cinder releases the key; an unknown
    outcome keeps it, is audited as unknown and handed to the worker (`request` is what it
    needs to find out). The caller re-raises `exc`."""
    if not isinstance(exc, errors.OutcomeUnknown):
        if attempt.key:
            idempotency.release(key=attempt.key)
        write_audit(attempt, audit.outcome_of(exc), error=exc)
        return
    key = attempt.key or idempotency.new_key()
    with transaction.atomic():
        event = write_audit(attempt, Outcome.UNKNOWN, error=exc)
        idempotency.hold_unknown(
            key=key,
            actor_id=attempt.scope.user_id,
            action=attempt.action,
            subject=attempt.subject,
            project_id=attempt.project_id,
            target_id=attempt.snapshot.id if attempt.snapshot else "",
            event_id=event.id,
            request=request,
        )
        queue.enqueue(RECONCILE_TASK, key=key)
    exc.operation_key = key
    exc.event_id = event.id


def change(
    attempt: Attempt, call: Callable[[], Receipt | None], *, request: dict[str, Any]
) -> ActionResult:
    """Steps 5 and 6 for a change on an existing snapshot: make the call (a failure is handled
    by `call_failed` and re-raised), then read back, mirror and audit."""
    try:
        receipt = call()
    except errors.CloudError as exc:
        call_failed(attempt, exc, request=request)
        raise
    return succeeded(attempt, receipt=receipt)


def read_back(gateway: Gateway, snapshot_id: str) -> SnapshotData | errors.CloudError | None:
    """Cinder's view of the snapshot after a change that returns no body: its data, None when
    it is gone, or the error when Cinder could not say (the worker will find out)."""
    try:
        return gateway.get_snapshot(snapshot_id)
    except errors.NotFound:
        return None
    except errors.CloudError as exc:  # even a sign-in that just expired: the change is done
        return exc


def store(snapshot_id: str, seen: SnapshotData | errors.CloudError | None) -> Snapshot:
    """Put what was read back into the mirror, and track the snapshot if it is moving."""
    if isinstance(seen, SnapshotData):
        row, _ = mirror.apply(seen, source=ChangeSource.ACTION)
        if row.is_transitional:
            queue.enqueue(TRACK_TASK, snapshot_id=snapshot_id)
        return row
    if seen is None:
        mirror.mark_gone(snapshot_id, source=ChangeSource.ACTION)
    else:  # the change went through; the worker reads the new state when the cloud answers
        queue.enqueue(TRACK_TASK, snapshot_id=snapshot_id)
    return Snapshot.objects.get(pk=snapshot_id)


def succeeded(
    attempt: Attempt, *, receipt: Receipt | None, parameters: dict[str, Any] | None = None
) -> ActionResult:
    """Step 6 for a change on an existing snapshot: read it back, mirror, audit, settle the key.

    Cinder has acted: a failure of the dashboard's own database here must not make the person
    believe otherwise, so it is logged and the result says it was not recorded."""
    snapshot = attempt.snapshot
    assert snapshot is not None
    seen = read_back(attempt.caller.gateway, snapshot.id)
    try:
        with transaction.atomic():
            row = store(snapshot.id, seen)
            write_audit(attempt, Outcome.SUCCESS, receipt=receipt, parameters=parameters)
            if attempt.key:
                idempotency.finish(key=attempt.key, target_id=snapshot.id)
    except DatabaseError:
        log.exception(
            "%s of %s went through but could not be recorded", attempt.action, snapshot.id
        )
        return ActionResult(snapshot=snapshot, recorded=False)
    return ActionResult(snapshot=row)
