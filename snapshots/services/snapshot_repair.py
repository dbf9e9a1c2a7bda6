"""Admin status repairs: reset status (any status), set status and progress (Cinder's rules)."""

from __future__ import annotations

from snapshots import selectors
from snapshots.choices import RESETTABLE
from snapshots.models import Snapshot
from snapshots.permissions import Action
from snapshots.services.eligibility import allowed_set_statuses, why_not_settable
from snapshots.services.snapshot_change import change_snapshot
from snapshots.services.snapshot_edit import gone_reason
from snapshots.services.snapshots import ActionResult, Caller


def reset_refusal(snapshot: Snapshot, status: str, reason: str) -> str:
    if status not in RESETTABLE:
        return f"Cinder does not know the status {status!r}."
    if not reason.strip():
        return "Give a reason: it is kept in the audit log."
    return gone_reason(snapshot)


def set_status_refusal(snapshot: Snapshot, status: str, progress: int | None) -> str:
    if why := why_not_settable(snapshot.status):
        return why
    allowed = allowed_set_statuses(snapshot.status)
    if status not in allowed:
        return f"From {snapshot.status}, Cinder accepts only: {', '.join(allowed)}."
    if progress is not None and not 0 <= progress <= 100:
        return "Progress must be between 0 and 100 %."
    return ""


def snapshot_reset_status(
    *, caller: Caller, snapshot_id: str, status: str, reason: str
) -> ActionResult:
    """Admin: write a status directly (os-reset_status). The reason goes into the audit log."""
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    return change_snapshot(
        caller,
        snapshot,
        "reset_snapshot_status",
        Action.RESET_STATUS,
        {"status": status, "previous_status": snapshot.status, "reason": reason},
        refusal=reset_refusal(snapshot, status, reason),
        call=lambda: caller.gateway.reset_snapshot_status(snapshot.id, status),
        request={"status": status},
    )


def snapshot_set_status(
    *, caller: Caller, snapshot_id: str, status: str, progress: int | None
) -> ActionResult:
    """Admin: move a creating/deleting snapshot on, with a progress (os-update_snapshot_status)."""
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    return change_snapshot(
        caller,
        snapshot,
        "set_snapshot_status",
        Action.SET_STATUS,
        {"status": status, "progress": progress, "previous_status": snapshot.status},
        refusal=set_status_refusal(snapshot, status, progress),
        call=lambda: caller.gateway.set_snapshot_status(snapshot.id, status, progress),
        request={"status": status},
    )
