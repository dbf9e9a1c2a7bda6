"""Create a volume from a snapshot (Horizon's most used snapshot row action).

Cinder's rules are checked on the mirror before the call: the snapshot is `available`, the size
is not below the snapshot's, and the project's volume and gigabyte quota (as the workers last
read it) has room. Cinder stays the last word (its 400 and 413 come back as errors). The new
volume goes into the volume mirror at once (`creating`) and the workers follow it.
"""

from __future__ import annotations

import dataclasses
import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from snapshots import selectors
from snapshots.choices import Outcome, Status
from snapshots.cloud import errors
from snapshots.models import Operation, Snapshot, Volume
from snapshots.permissions import Action, Scope
from snapshots.services import idempotency, mirror, queue, quota, volume_tracking
from snapshots.services.snapshot_change import call_failed
from snapshots.services.snapshots import Attempt, Caller, admit, refuse, write_audit

log = logging.getLogger(__name__)

ACTION = "create_volume_from_snapshot"


@dataclasses.dataclass(frozen=True)
class VolumeResult:
    """The new volume's mirror row (None when it could not be recorded or found), the snapshot
    it came from, and whether this repeats an earlier submit of the same form."""

    volume: Volume | None
    snapshot: Snapshot
    repeated: bool = False
    recorded: bool = True


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


def may_create_from(scope: Scope | None, snapshot: Snapshot) -> bool:
    """Whether pages offer the action: members on their current project's snapshots; admins
    on any (the volume is made in the admin's current project, as Cinder does)."""
    from snapshots.permissions import can

    if scope is None or snapshot.deleted_at is not None:
        return False
    if not can(scope, Action.CREATE, scope.project_id):
        return False
    return scope.is_admin or snapshot.project_id == scope.project_id


def volume_create_from_snapshot(
    *,
    caller: Caller,
    snapshot_id: str,
    size: int,
    name: str = "",
    description: str = "",
    volume_type: str = "",
    availability_zone: str = "",
) -> VolumeResult:
    """A new volume in the user's current project, made from a snapshot they may see."""
    scope = caller.scope
    snapshot = selectors.get_snapshot(scope, snapshot_id)
    wanted = {
        "size": size,
        "name": name,
        "description": description,
        "volume_type": volume_type,
        "availability_zone": availability_zone,
    }
    parameters = {"snapshot_id": snapshot.id, **wanted}
    # the volume lives in the token's project
    attempt = Attempt(
        caller,
        ACTION,
        scope.project_id,
        snapshot=snapshot,
        subject=snapshot.id,
        parameters=parameters,
    )
    earlier = admit(attempt, Action.CREATE)
    if earlier is not None:
        target = Operation.objects.filter(pk=caller.key).values_list("target_id", flat=True).first()
        made = Volume.objects.filter(pk=target).first() if target else None
        return VolumeResult(volume=made, snapshot=snapshot, repeated=True)
    if not may_create_from(scope, snapshot):
        raise refuse(attempt, "A volume can be made only from a snapshot of your current project.")
    reason = create_refusal(snapshot, size=size, project_id=scope.project_id)
    if reason:
        raise refuse(attempt, reason)
    sent_at = timezone.now()
    try:
        data, receipt = caller.gateway.create_volume(snapshot_id=snapshot.id, **wanted)
    except errors.CloudError as exc:
        # what the worker looks for when the answer was lost: a volume made from this snapshot
        # with this name, created around the time the request went out
        request = {"snapshot_id": snapshot.id, "name": name, "sent_at": sent_at.isoformat()}
        call_failed(attempt, exc, request=request)
        raise
    data = dataclasses.replace(
        data,
        project_id=data.project_id or scope.project_id,
        source_snapshot_id=data.source_snapshot_id or snapshot.id,
    )
    try:
        with transaction.atomic():
            mirror.apply_volume_page([data], now=timezone.now())
            write_audit(
                attempt,
                Outcome.SUCCESS,
                receipt=receipt,
                parameters={**attempt.parameters, "volume_id": data.id},
            )
            if caller.key:
                idempotency.finish(key=caller.key, target_id=data.id)
            quota.note_use(data.project_id, volumes=1, gigabytes=data.size)
            queue.enqueue(volume_tracking.TRACK_TASK, volume_id=data.id)
            queue.enqueue(quota.REFRESH_TASK, project_id=data.project_id)
    except DatabaseError:
        log.exception("volume %s was created but could not be recorded", data.id)
        return VolumeResult(volume=None, snapshot=snapshot, recorded=False)
    return VolumeResult(volume=Volume.objects.get(pk=data.id), snapshot=snapshot)
