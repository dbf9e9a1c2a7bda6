"""Admin status repairs: reset status (any status), set status and progress (Cinder's rules)."""

from __future__ import annotations

from snapshots import selectors
from snapshots.choices import RESETTABLE
from snapshots.cloud.gateway import Gateway
from snapshots.permissions import Action, Scope
from snapshots.services.eligibility import allowed_set_statuses, why_not_settable
from snapshots.services.snapshot_edit import gone_reason
from snapshots.services.snapshots import (
    ActionResult,
    begin,
    change,
    refuse,
)


def snapshot_reset_status(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    status: str,
    reason: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> ActionResult:
    """Admin: write a status directly (os-reset_status). The reason goes into the audit log."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt, earlier = begin(
        snapshot,
        scope=scope,
        action="reset_snapshot_status",
        permission=Action.RESET_STATUS,
        client_addr=client_addr,
        key=idempotency_key,
        parameters={"status": status, "previous_status": snapshot.status, "reason": reason},
    )
    if earlier is not None:
        return earlier
    if status not in RESETTABLE:
        raise refuse(attempt, f"Cinder does not know the status {status!r}.")
    if not reason.strip():
        raise refuse(attempt, "Give a reason: it is kept in the audit log.")
    if why := gone_reason(snapshot):
        raise refuse(attempt, why)
    return change(
        attempt,
        lambda: gateway.reset_snapshot_status(snapshot.id, status),
        gateway=gateway,
        request={"status": status},
    )


def snapshot_set_status(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    status: str,
    progress: int | None,
    client_addr: str | None,
    idempotency_key: str = "",
) -> ActionResult:
    """Admin: move a creating/deleting snapshot on, with a progress (os-update_snapshot_status)."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt, earlier = begin(
        snapshot,
        scope=scope,
        action="set_snapshot_status",
        permission=Action.SET_STATUS,
        client_addr=client_addr,
        key=idempotency_key,
        parameters={"status": status, "progress": progress, "previous_status": snapshot.status},
    )
    if earlier is not None:
        return earlier
    if why := why_not_settable(snapshot.status):
        raise refuse(attempt, why)
    allowed = allowed_set_statuses(snapshot.status)
    if status not in allowed:
        raise refuse(attempt, f"From {snapshot.status}, Cinder accepts only: {', '.join(allowed)}.")
    if progress is not None and not 0 <= progress <= 100:
        raise refuse(attempt, "Progress must be between 0 and 100 %.")
    return change(
        attempt,
        lambda: gateway.set_snapshot_status(snapshot.id, status, progress),
        gateway=gateway,
        request={"status": status},
    )
