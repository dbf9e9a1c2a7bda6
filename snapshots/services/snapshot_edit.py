"""Change a snapshot's name, description or metadata."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from snapshots import selectors
from snapshots.cloud import errors
from snapshots.models import Snapshot
from snapshots.permissions import Action
from snapshots.services.snapshot_change import call_failed, change, read_back, store, succeeded
from snapshots.services.snapshots import ActionResult, Caller, begin, unchanged


def gone_reason(snapshot: Snapshot) -> str:
    return "This snapshot no longer exists in Cinder." if snapshot.deleted_at is not None else ""


def snapshot_update(
    *, caller: Caller, snapshot_id: str, name: str, description: str
) -> ActionResult:
    """Rename or re-describe a snapshot; sends only what changed."""
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    parameters = {"name": name, "description": description}
    attempt, earlier = begin(
        caller, snapshot, "update_snapshot", Action.EDIT, parameters, refusal=gone_reason(snapshot)
    )
    if earlier is not None:
        return earlier
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
        lambda: caller.gateway.update_snapshot(snapshot.id, **changes).receipt,
        request={"wanted": changes},
    )


def snapshot_update_metadata(
    *, caller: Caller, snapshot_id: str, set_items: dict[str, str], remove_keys: Iterable[str]
) -> ActionResult:
    """Add or change keys (merge) and remove keys, through the metadata endpoints.

    Only the keys the person touched are sent, so a key someone else added meanwhile survives.
    Cinder's current metadata is read first, so a key already gone is not deleted twice (404).
    """
    remove = sorted(set(remove_keys) - set(set_items))
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    request = {"set": set_items, "remove": remove}
    action, refusal = "update_snapshot_metadata", gone_reason(snapshot)
    attempt, earlier = begin(caller, snapshot, action, Action.EDIT, request, refusal=refusal)
    if earlier is not None:
        return earlier
    if not set_items and not remove:
        return unchanged(attempt)
    gateway, receipt = caller.gateway, None
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
        call_failed(attempt, exc, request=request)
        raise
    return succeeded(attempt, receipt=receipt)
