"""Change a snapshot's name, description or metadata."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from snapshots import selectors
from snapshots.cloud import errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot
from snapshots.permissions import Action, Scope
from snapshots.services.snapshots import (
    ActionResult,
    begin,
    call_failed,
    change,
    read_back,
    refuse,
    store,
    succeeded,
    unchanged,
)


def gone_reason(snapshot: Snapshot) -> str:
    return "This snapshot no longer exists in Cinder." if snapshot.deleted_at is not None else ""


def snapshot_update(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    name: str,
    description: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> ActionResult:
    """Rename or re-describe a snapshot; sends only what changed."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt, earlier = begin(
        snapshot,
        scope=scope,
        action="update_snapshot",
        permission=Action.EDIT,
        client_addr=client_addr,
        key=idempotency_key,
        parameters={"name": name, "description": description},
    )
    if earlier is not None:
        return earlier
    if reason := gone_reason(snapshot):
        raise refuse(attempt, reason)
    changes: dict[str, str] = {}
    if name != snapshot.name:
        changes["name"] = name
    if description != snapshot.description:
        changes["description"] = description
    if not changes:
        return unchanged(attempt)
    attempt.parameters = {**changes, "previous": {k: getattr(snapshot, k) for k in changes}}
    return change(
        attempt,
        lambda: gateway.update_snapshot(snapshot.id, **changes).receipt,
        gateway=gateway,
        request={"wanted": changes},
    )


def snapshot_update_metadata(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    set_items: dict[str, str],
    remove_keys: Iterable[str],
    client_addr: str | None,
    idempotency_key: str = "",
) -> ActionResult:
    """Add or change keys (merge) and remove keys, through the metadata endpoints.

    Only the keys the person touched are sent, so a key someone else added meanwhile survives.
    Cinder's current metadata is read first, so a key already gone is not deleted twice (404).
    """
    remove = sorted(set(remove_keys) - set(set_items))
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt, earlier = begin(
        snapshot,
        scope=scope,
        action="update_snapshot_metadata",
        permission=Action.EDIT,
        client_addr=client_addr,
        key=idempotency_key,
        parameters={"set": set_items, "remove": remove},
    )
    if earlier is not None:
        return earlier
    if reason := gone_reason(snapshot):
        raise refuse(attempt, reason)
    if not set_items and not remove:
        return unchanged(attempt)
    receipt = None
    merged = False
    try:
        current = gateway.get_snapshot_metadata(snapshot.id)
        to_set = {k: v for k, v in set_items.items() if current.get(k) != v}
        to_remove = [k for k in remove if k in current]
        if to_set:
            receipt = gateway.set_snapshot_metadata(snapshot.id, to_set).receipt
            merged = True
        if to_remove:
            receipt = gateway.delete_snapshot_metadata(snapshot.id, to_remove).receipt
    except errors.CloudError as exc:
        if merged:  # the keys were set, then a removal failed: keep the mirror true
            exc.partly_done = True
            with transaction.atomic():
                store(snapshot.id, read_back(gateway, snapshot.id))
        call_failed(attempt, exc, request={"set": set_items, "remove": remove})
        raise
    return succeeded(attempt, gateway=gateway, receipt=receipt)
