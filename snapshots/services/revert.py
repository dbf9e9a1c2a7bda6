"""Revert a volume to a snapshot (Cinder 3.40): what the volume held after that snapshot is lost.

Cinder allows it only for the volume's latest snapshot, with the volume and the snapshot both
`available` and of equal size; `revert_refusal` checks that on the mirror, so pages offer the
action only where Cinder would take it. During the revert the volume is `reverting` and the
snapshot `restoring`; the workers follow both back to `available`.
"""

from __future__ import annotations

from django.utils import timezone

from snapshots import selectors
from snapshots.choices import Status
from snapshots.cloud import errors
from snapshots.models import Snapshot, Volume
from snapshots.permissions import Action, Scope, can
from snapshots.services import mirror, queue, volume_tracking
from snapshots.services.snapshot_change import call_failed, succeeded
from snapshots.services.snapshots import ActionResult, Caller, begin

ACTION = "revert_volume_to_snapshot"


def latest_snapshot(volume_id: str) -> Snapshot | None:
    """The volume's newest live snapshot in the mirror (the only one Cinder reverts to)."""
    return (
        Snapshot.objects.live().filter(volume_id=volume_id).order_by("-created_at", "-id").first()
    )


def revert_refusal(volume: Volume | None, snapshot: Snapshot) -> str:
    """Why Cinder would refuse this revert; "" when it should go through."""
    if snapshot.deleted_at is not None:
        return "This snapshot no longer exists in Cinder."
    if volume is None or volume.deleted_at is not None:
        return "The snapshot's volume no longer exists in Cinder."
    latest = latest_snapshot(volume.id)
    if latest is None or latest.id != snapshot.id:
        return "A volume can be reverted only to its latest snapshot."
    if volume.status != "available":
        return f"The volume must be available to revert; it is {volume.status}."
    if snapshot.status != Status.AVAILABLE:
        return f"The snapshot must be available to revert to; it is {snapshot.status}."
    if volume.size != snapshot.size:
        return (
            f"The volume ({volume.size} GiB) was resized since this snapshot "
            f"({snapshot.size} GiB); Cinder reverts only to a snapshot of the same size."
        )
    return ""


def source_volume(snapshot: Snapshot) -> Volume | None:
    return Volume.objects.filter(pk=snapshot.volume_id).first() if snapshot.volume_id else None


def may_revert(scope: Scope | None, snapshot: Snapshot, volume: Volume | None) -> bool:
    """Whether pages offer the revert: the role allows it and Cinder would take it."""
    return (
        scope is not None
        and can(scope, Action.REVERT, snapshot.project_id)
        and revert_refusal(volume, snapshot) == ""
    )


def volume_revert_to_snapshot(*, caller: Caller, snapshot_id: str) -> ActionResult:
    """Revert the snapshot's volume to it. The result's snapshot is `restoring`."""
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    parameters = {"snapshot_id": snapshot.id, "volume_id": snapshot.volume_id}
    volume = source_volume(snapshot)
    refusal = revert_refusal(volume, snapshot)
    attempt, earlier = begin(caller, snapshot, ACTION, Action.REVERT, parameters, refusal=refusal)
    if earlier is not None:
        return earlier
    gateway, sent_at = caller.gateway, timezone.now()
    try:
        receipt = gateway.revert_volume_to_snapshot(volume.id, snapshot.id)
    except errors.CloudError as exc:
        call_failed(attempt, exc, request={**parameters, "sent_at": sent_at.isoformat()})
        raise
    try:
        mirror.apply_volume_page([gateway.get_volume(volume.id)], now=timezone.now())
    except errors.NotAuthenticated:
        raise
    except errors.CloudError:
        pass  # the revert went through; the workers read the volume's status
    result = succeeded(attempt, receipt=receipt)
    queue.enqueue(volume_tracking.TRACK_TASK, volume_id=volume.id)
    return result
