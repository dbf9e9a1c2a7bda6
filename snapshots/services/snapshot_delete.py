"""Delete a snapshot: the member's delete, and the admin's force delete."""

from __future__ import annotations

from snapshots import selectors
from snapshots.cloud.gateway import Gateway
from snapshots.permissions import Action, Scope
from snapshots.services.eligibility import why_not_deletable, why_not_force_deletable
from snapshots.services.snapshots import (
    ActionResult,
    begin,
    change,
    refuse,
)


def snapshot_delete(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> ActionResult:
    """Ask Cinder to delete an available or error snapshot; it goes to `deleting`."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt, earlier = begin(
        snapshot,
        scope=scope,
        action="delete_snapshot",
        permission=Action.DELETE,
        client_addr=client_addr,
        key=idempotency_key,
        parameters={"status": snapshot.status},
        audit_parameters=False,
    )
    if earlier is not None:
        return earlier
    if reason := why_not_deletable(snapshot):
        raise refuse(attempt, reason)
    return change(
        attempt,
        lambda: gateway.delete_snapshot(snapshot.id),
        gateway=gateway,
        request={"status": snapshot.status},
    )


def snapshot_force_delete(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> ActionResult:
    """Admin: delete whatever the status (os-force_delete), e.g. out of `error_deleting`."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt, earlier = begin(
        snapshot,
        scope=scope,
        action="force_delete_snapshot",
        permission=Action.FORCE_DELETE,
        client_addr=client_addr,
        key=idempotency_key,
        parameters={"status": snapshot.status},
    )
    if earlier is not None:
        return earlier
    if reason := why_not_force_deletable(snapshot):
        raise refuse(attempt, reason)
    return change(
        attempt,
        lambda: gateway.force_delete_snapshot(snapshot.id),
        gateway=gateway,
        request={"status": snapshot.status},
    )
