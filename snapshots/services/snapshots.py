"""What every snapshot action shares: its result, its refusal, and the steps around its call.

Each action (snapshot_create.py, snapshot_edit.py, snapshot_delete.py, snapshot_repair.py)
takes the same steps, in this order, because each protects the next:
1. find the snapshot the way the user may see it (404 for another project's);
2. check the permission for that object on the server (403 before anything reaches Cinder);
3. claim the form's idempotency key for this person, action and subject (a repeated submit
   returns the first result; the key sent for anything else is refused);
4. refuse locally what Cinder would refuse anyway (a clear reason, no pointless call);
5. call Cinder through the user's gateway, so Cinder's policy is the last word;
6. store Cinder's answer in the mirror, write the audit event (with Cinder's status and
   request id), and ask the worker to track the snapshot while it is transitional.
Steps 1 to 4 are here; 5 and 6 are in snapshot_change.py.
When Cinder's answer does not come, the outcome is unknown: it is audited as such, the key
stays claimed and the worker finds out what happened (reconcile.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied

from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.cloud.dto import Receipt, SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import AuditEvent, Operation, Snapshot
from snapshots.permissions import Action, Scope, require
from snapshots.services import audit, idempotency

log = logging.getLogger(__name__)

TRACK_TASK = "snapshots.tasks.track"
RECONCILE_TASK = "snapshots.tasks.reconcile"


class ActionRefused(Exception):
    """The dashboard refuses before calling Cinder, with a reason a person can act on."""


@dataclass(frozen=True)
class ActionResult:
    """What a single action did. `snapshot` is the mirror row afterwards (None when it could
    not be read); `repeated`: the form had been sent before and this is that first result;
    `changed`: False when there was nothing to send; `recorded`: False when Cinder acted but
    the dashboard's database could not record it (the workers catch up)."""

    snapshot: Snapshot | None
    repeated: bool = False
    changed: bool = True
    recorded: bool = True


@dataclass(frozen=True)
class Caller:
    """Who asks for an action, and how: the person's scope, their gateway to Cinder, the
    address the request came from (for the audit log) and the form's idempotency key."""

    scope: Scope
    gateway: Gateway
    client_addr: str | None = None
    key: str = ""


@dataclass
class Attempt:
    """One person's attempt at one action, as the audit log and the idempotency table see it."""

    caller: Caller
    action: str  # the audit log's name for it, e.g. "delete_snapshot"
    project_id: str
    snapshot: Snapshot | None = None
    subject: str = ""  # what the key is bound to: the snapshot, or the volume of a create
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return self.caller.scope

    @property
    def key(self) -> str:
        return self.caller.key


def write_audit(
    attempt: Attempt,
    outcome: str,
    *,
    error: errors.CloudError | None = None,
    receipt: Receipt | None = None,
    message: str = "",
    target: Snapshot | SnapshotData | None = None,
    parameters: dict[str, Any] | None = None,
) -> AuditEvent:
    target = target or attempt.snapshot
    return audit.record(
        scope=attempt.scope,
        action=attempt.action,
        outcome=outcome,
        target_id=target.id if target else "",
        target_name=(target.name if target else attempt.parameters.get("name", "")) or "",
        project_id=attempt.project_id,
        parameters=attempt.parameters if parameters is None else parameters,
        error=error,
        message=message,
        client_addr=attempt.caller.client_addr,
        status_code=receipt.status_code if receipt else None,
        request_id=receipt.request_id if receipt else "",
    )


def admit(
    attempt: Attempt, permission: Action, *, audit_parameters: bool = True
) -> ActionResult | None:
    """Steps 2 and 3: the permission, then the key (each refusal audited). Returns the earlier
    result when this submit repeats one, else None (go ahead)."""
    try:
        require(attempt.scope, permission, attempt.project_id or None)
    except PermissionDenied as exc:
        write_audit(
            attempt,
            Outcome.DENIED,
            message=str(exc),
            parameters=attempt.parameters if audit_parameters else {},
        )
        raise
    if not attempt.key:
        return None
    try:
        earlier = idempotency.claim(
            key=attempt.key,
            actor_id=attempt.scope.user_id,
            action=attempt.action,
            subject=attempt.subject,
            project_id=attempt.project_id,
        )
    except idempotency.KeyReused as exc:
        write_audit(attempt, Outcome.DENIED, message=str(exc))
        raise
    if earlier is None:
        return None
    if earlier.state == Operation.UNKNOWN:
        raise unknown_error(earlier, "The first submission of this form is still being checked")
    row = Snapshot.objects.filter(pk=earlier.target_id).first() if earlier.target_id else None
    return ActionResult(snapshot=row or attempt.snapshot, repeated=True)


def begin(
    caller: Caller,
    snapshot: Snapshot,
    action: str,
    permission: Action,
    parameters: dict[str, Any],
    *,
    refusal: str = "",
    audit_parameters: bool = True,
) -> tuple[Attempt, ActionResult | None]:
    """Steps 1 to 4 for an action on an existing snapshot: the attempt, admitted, then refused
    (raised, audited) when `refusal` is not "". The second item is the earlier result when
    this submit repeats one (return it), else None."""
    attempt = Attempt(
        caller,
        action,
        snapshot.project_id,
        snapshot=snapshot,
        subject=snapshot.id,
        parameters=parameters,
    )
    earlier = admit(attempt, permission, audit_parameters=audit_parameters)
    if earlier is None and refusal:
        raise refuse(attempt, refusal)
    return attempt, earlier


def unknown_error(operation: Operation, message: str = "") -> errors.OutcomeUnknown:
    exc = errors.OutcomeUnknown(message)
    exc.operation_key = operation.key
    exc.event_id = operation.event_id
    return exc


def unchanged(attempt: Attempt) -> ActionResult:
    """Step 4 found nothing to send: the key is finished (a repeat gets the same answer) and
    nothing is audited."""
    if attempt.key:
        idempotency.finish(key=attempt.key, target_id=attempt.snapshot.id)
    return ActionResult(snapshot=attempt.snapshot, changed=False)


def refuse(attempt: Attempt, reason: str) -> ActionRefused:
    """Step 4: a local refusal, audited; the key is free again. The caller raises it."""
    if attempt.key:
        idempotency.release(key=attempt.key)
    write_audit(attempt, Outcome.DENIED, message=reason)
    return ActionRefused(reason)
