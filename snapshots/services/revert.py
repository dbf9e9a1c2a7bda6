"""Revert a volume to a snapshot (Cinder 3.40): what the volume held after that snapshot is lost.

Cinder allows it only for the volume's latest snapshot, with the volume and the snapshot both
`available` and of equal size; `revert_refusal` checks that on the mirror, so pages offer the
action only where Cinder would take it. During the revert the volume is `reverting` and the
snapshot `restoring`; the workers follow both back to `available`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from snapshots import selectors
from snapshots.choices import ChangeSource, Status
from snapshots.cloud import errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot, Volume
from snapshots.permissions import Action, Scope
from snapshots.selectors.volumes import get_volume
from snapshots.services import mirror, queue, volume_tracking
from snapshots.services.attempts import Attempt

ACTION = "revert_volume_to_snapshot"
SNAPSHOT_TRACK_TASK = "snapshots.tasks.track"


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


def revertible(snapshot: Snapshot) -> bool:
    volume = Volume.objects.filter(pk=snapshot.volume_id).first()
    return revert_refusal(volume, snapshot) == ""


def revert_volume_to_snapshot(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    idempotency_key: str,
    client_addr: str | None,
) -> Snapshot:
    """Revert the snapshot's volume to it. Returns the snapshot's mirror row (`restoring`)."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt = Attempt(
        scope=scope,
        action=ACTION,
        project_id=snapshot.project_id,
        key=idempotency_key,
        client_addr=client_addr,
        target_id=snapshot.id,
        target_name=snapshot.name,
        parameters={"snapshot_id": snapshot.id, "volume_id": snapshot.volume_id},
    )
    if attempt.admit(Action.REVERT) is not None:
        return Snapshot.objects.get(pk=snapshot.id)
    volume = get_volume(scope, snapshot.volume_id) if snapshot.volume_id else None
    reason = revert_refusal(volume, snapshot)
    if reason:
        raise attempt.refuse(reason)
    try:
        gateway.revert_volume_to_snapshot(volume.id, snapshot.id)
    except errors.CloudError as exc:
        attempt.failed(exc)
        raise
    seen_volume = seen_snapshot = None
    try:
        seen_volume = gateway.get_volume(volume.id)
        seen_snapshot = gateway.get_snapshot(snapshot.id)
    except errors.NotAuthenticated:
        raise
    except errors.CloudError:
        pass  # the revert went through; the workers read the new statuses
    with transaction.atomic():
        if seen_volume is not None:
            mirror.apply_volume_page([seen_volume], now=timezone.now())
        if seen_snapshot is not None:
            mirror.apply(seen_snapshot, source=ChangeSource.ACTION)
        attempt.succeeded()
        queue.enqueue(volume_tracking.TRACK_TASK, volume_id=volume.id)
        queue.enqueue(SNAPSHOT_TRACK_TASK, snapshot_id=snapshot.id)
    return Snapshot.objects.get(pk=snapshot.id)
