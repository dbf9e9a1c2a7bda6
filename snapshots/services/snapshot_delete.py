"""Delete a snapshot: the member's delete, and the admin's force delete."""

from __future__ import annotations

from snapshots import selectors
from snapshots.permissions import Action
from snapshots.services.eligibility import why_not_deletable, why_not_force_deletable
from snapshots.services.snapshot_change import change_snapshot
from snapshots.services.snapshots import ActionResult, Caller


def snapshot_delete(*, caller: Caller, snapshot_id: str) -> ActionResult:
    """Ask Cinder to delete an available or error snapshot; it goes to `deleting`."""
    return _delete(caller, snapshot_id, force=False)


def snapshot_force_delete(*, caller: Caller, snapshot_id: str) -> ActionResult:
    """Admin: delete whatever the status (os-force_delete), e.g. out of `error_deleting`."""
    return _delete(caller, snapshot_id, force=True)


def _delete(caller: Caller, snapshot_id: str, *, force: bool) -> ActionResult:
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    gateway = caller.gateway
    if force:
        action, permission = "force_delete_snapshot", Action.FORCE_DELETE
        refusal, call = why_not_force_deletable(snapshot), gateway.force_delete_snapshot
    else:
        action, permission = "delete_snapshot", Action.DELETE
        refusal, call = why_not_deletable(snapshot), gateway.delete_snapshot
    return change_snapshot(
        caller,
        snapshot,
        action,
        permission,
        {"status": snapshot.status},
        refusal=refusal,
        call=lambda: call(snapshot.id),
        audit_parameters=force,  # a denied member's delete is audited without them
    )
