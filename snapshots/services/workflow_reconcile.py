"""What the worker looks for when a workflow action's answer never came (reconcile.py asks).

- a volume made from a snapshot: a volume of that snapshot with the name asked for, made
  around the time the request went out (it goes into the volume mirror);
- a revert: the volume `reverting` or the snapshot `restoring`;
- an unmanage: the snapshot `unmanaging` or gone from Cinder;
- a manage: a snapshot of the volume with the name and description asked for, made around the
  time the request went out, and not already claimed by another action.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from snapshots.cloud import errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Operation
from snapshots.services import mirror, queue, volume_tracking
from snapshots.services.manage import MANAGE, UNMANAGE
from snapshots.services.revert import ACTION as REVERT
from snapshots.services.volume_create import ACTION as CREATE_VOLUME

ACTIONS = (CREATE_VOLUME, REVERT, UNMANAGE, MANAGE)
WINDOW = timedelta(minutes=2)
SLACK = timedelta(seconds=30)


def _current(gateway: Gateway, snapshot_id: str):
    try:
        return gateway.get_snapshot(snapshot_id)
    except errors.NotFound:
        return None


def _made_in_time(created_at: datetime | None, sent_at: datetime) -> bool:
    return created_at is not None and sent_at - SLACK <= created_at <= sent_at + WINDOW


def examine(op: Operation, gateway: Gateway):
    """A reconcile.Finding for a workflow action, or None when `op` is not one."""
    from snapshots.services.reconcile import Finding

    if op.action not in ACTIONS:
        return None
    request = op.request or {}
    if op.action == CREATE_VOLUME:
        sent_at = datetime.fromisoformat(request["sent_at"])
        for volume in gateway.list_volumes(all_projects=True):
            if (
                volume.source_snapshot_id == request["snapshot_id"]
                and volume.name == request.get("name", "")
                and _made_in_time(volume.created_at, sent_at)
            ):
                mirror.apply_volume_page([volume], now=timezone.now())
                queue.enqueue(volume_tracking.TRACK_TASK, volume_id=volume.id)
                seen = _current(gateway, request["snapshot_id"])
                return Finding(True, seen, f"Cinder made volume {volume.id}.")
        return Finding(None)
    if op.action == REVERT:
        seen = _current(gateway, op.target_id)
        volume = gateway.get_volume(request["volume_id"])
        if volume.status == "reverting" or (seen is not None and seen.status == "restoring"):
            queue.enqueue(volume_tracking.TRACK_TASK, volume_id=volume.id)
            return Finding(True, seen, "Cinder is reverting the volume.")
        return Finding(None, seen)
    if op.action == UNMANAGE:
        seen = _current(gateway, op.target_id)
        if seen is None or seen.status == "unmanaging":
            return Finding(True, seen, "Cinder no longer manages the snapshot.")
        return Finding(None, seen)
    sent_at = datetime.fromisoformat(request["sent_at"])
    page = gateway.list_snapshots(all_projects=True, volume_id=request["volume_id"], limit=1000)
    claimed = set(Operation.objects.exclude(pk=op.pk).values_list("target_id", flat=True))
    for item in sorted(page.items, key=lambda s: s.created_at):
        if (
            item.name == request.get("name", "")
            and item.description == request.get("description", "")
            and _made_in_time(item.created_at, sent_at)
            and item.id not in claimed
        ):
            return Finding(True, item, f"Cinder manages it as snapshot {item.id}.")
    return Finding(None)
