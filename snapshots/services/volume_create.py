"""Create a volume from a snapshot (Horizon's most used snapshot row action).

Cinder's rules are checked on the mirror before the call: the snapshot is `available`, the size
is not below the snapshot's, and the project's volume and gigabyte quota (as the workers last
read it) has room. Cinder stays the last word (its 400 and 413 come back as errors). The new
volume goes into the volume mirror at once (`creating`) and the workers follow it.
"""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone

from snapshots import selectors
from snapshots.choices import Status
from snapshots.cloud import errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot, Volume
from snapshots.permissions import Action, Scope
from snapshots.services import mirror, queue, quota, volume_tracking
from snapshots.services.attempts import Attempt

ACTION = "create_volume_from_snapshot"


def create_refusal(snapshot: Snapshot, *, size: int, project_id: str) -> str:
    """Why Cinder would refuse this create, from the mirror; "" when it should go through."""
    if snapshot.deleted_at is not None:
        return "This snapshot no longer exists in Cinder."
    if snapshot.status != Status.AVAILABLE:
        return (
            f"A volume can be made only from an available snapshot; this one is {snapshot.status}."
        )
    if size < snapshot.size:
        return (
            f"The volume must be at least as large as the snapshot ({snapshot.size} GiB); "
            f"{size} GiB was asked."
        )
    return quota.quota_refusal(quota.quota_for(project_id), volumes=1, gigabytes=size)


def create_volume_from_snapshot(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    size: int,
    name: str = "",
    description: str = "",
    volume_type: str = "",
    availability_zone: str = "",
    idempotency_key: str,
    client_addr: str | None,
) -> Volume:
    """A new volume in the user's current project, made from a snapshot they may see."""
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    attempt = Attempt(
        scope=scope,
        action=ACTION,
        # the volume is created in the token's project (an admin may use another's snapshot)
        project_id=scope.project_id,
        key=idempotency_key,
        client_addr=client_addr,
        target_name=name,
        parameters={
            "snapshot_id": snapshot.id,
            "size": size,
            "name": name,
            "description": description,
            "volume_type": volume_type,
            "availability_zone": availability_zone,
        },
    )
    earlier = attempt.admit(Action.CREATE)
    if earlier is not None:
        return Volume.objects.get(pk=earlier)
    if scope.project_id != snapshot.project_id and not scope.is_admin:
        raise attempt.refuse("A volume can be made only from a snapshot of your current project.")
    reason = create_refusal(snapshot, size=size, project_id=scope.project_id)
    if reason:
        raise attempt.refuse(reason)
    try:
        data = gateway.create_volume(
            snapshot_id=snapshot.id,
            size=size,
            name=name,
            description=description,
            volume_type=volume_type,
            availability_zone=availability_zone,
        )
    except errors.CloudError as exc:
        attempt.failed(exc)
        raise
    data = dataclasses.replace(
        data,
        project_id=data.project_id or scope.project_id,
        source_snapshot_id=data.source_snapshot_id or snapshot.id,
    )
    with transaction.atomic():
        mirror.apply_volume_page([data], now=timezone.now())
        attempt.succeeded(target_id=data.id, target_name=data.name)
        quota.note_use(data.project_id, volumes=1, gigabytes=data.size)
        queue.enqueue(volume_tracking.TRACK_TASK, volume_id=data.id)
        queue.enqueue(quota.REFRESH_TASK, project_id=data.project_id)
    return Volume.objects.get(pk=data.id)
