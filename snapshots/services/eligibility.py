"""Which volumes Cinder will snapshot, and why not (section 8 of cinder-snapshots-api.md).

Cinder takes a snapshot of an `available` volume, and of an `in-use` one when `force` is sent
(below microversion 3.66) or always (3.66 and later). Every other status is refused with a 400.
The create form and the volumes page show the answer before anyone clicks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from snapshots.cloud import errors
from snapshots.cloud.dto import VolumeData
from snapshots.cloud.gateway import Gateway
from snapshots.models import Volume
from snapshots.permissions import Scope

SNAPSHOTTABLE = ("available", "in-use")
REASONS = {
    "error": "The volume is in error; Cinder cannot snapshot it.",
    "maintenance": "The volume is under maintenance.",
    "creating": "The volume is still being created.",
    "deleting": "The volume is being deleted.",
    "attaching": "The volume is being attached; try again when it is in use.",
    "detaching": "The volume is being detached; try again when it is available.",
    "reserved": "The volume is reserved for an attachment; try again in a moment.",
    "extending": "The volume is being extended.",
    "retyping": "The volume is changing type.",
    "backing-up": "A backup of the volume is running.",
    "uploading": "The volume is being uploaded to an image.",
    "downloading": "An image is being written to the volume.",
    "awaiting-transfer": "The volume is waiting to be transferred to another project.",
}


@dataclass(frozen=True, slots=True)
class VolumeChoice:
    """One volume as the create form and the volumes page show it."""

    id: str
    name: str
    size: int
    status: str
    eligible: bool
    needs_force: bool
    reason: str

    @property
    def label(self) -> str:
        return self.name or self.id


def assess(volume: VolumeData, *, in_use_needs_force: bool) -> VolumeChoice:
    status = volume.status
    eligible = status in SNAPSHOTTABLE
    needs_force = status == "in-use" and in_use_needs_force
    if eligible:
        reason = (
            "Attached to a server: tick “Force” to snapshot it while in use." if needs_force else ""
        )
    elif status.startswith("replica_"):
        reason = "The volume is a replica; Cinder cannot snapshot it."
    elif status.startswith("error"):
        reason = f"The volume is in {status}; Cinder cannot snapshot it."
    else:
        reason = REASONS.get(
            status,
            f"The volume is {status or 'in an unknown state'}; only available or "
            "in-use volumes can be snapshotted.",
        )
    return VolumeChoice(
        id=volume.id,
        name=volume.name,
        size=volume.size,
        status=status,
        eligible=eligible,
        needs_force=needs_force,
        reason=reason,
    )


@dataclass(frozen=True, slots=True)
class ProjectVolumes:
    """The volumes of the user's project, as Cinder lists them or, when it cannot, the mirror."""

    choices: list[VolumeChoice]
    needs_force: bool
    live: bool
    problem: str = ""


def project_volumes(*, scope: Scope, gateway: Gateway) -> ProjectVolumes:
    """Ask Cinder (through the user's own token: exactly what they may snapshot); fall back to
    the Volume mirror when the cloud is unavailable."""
    try:
        volumes = gateway.list_volumes()
        needs_force = gateway.in_use_needs_force()
        live, problem = True, ""
    except errors.NotAuthenticated:
        raise
    except errors.CloudError as exc:
        volumes = [
            VolumeData(id=v.id, name=v.name, size=v.size, status=v.status, project_id=v.project_id)
            for v in Volume.objects.filter(project_id=scope.project_id, deleted_at__isnull=True)
        ]
        needs_force, live, problem = True, False, exc.user_message()
    volumes.sort(key=lambda v: (v.name.lower(), v.id))
    return ProjectVolumes(
        choices=[assess(v, in_use_needs_force=needs_force) for v in volumes],
        needs_force=needs_force,
        live=live,
        problem=problem,
    )


def keep_posted_volume(volumes: ProjectVolumes, volume_id: str) -> ProjectVolumes:
    """While Cinder is unreachable the mirror may lack the volume the person chose: keep their
    choice (Cinder decides when it answers again) instead of calling it invalid."""
    if not volume_id or any(v.id == volume_id for v in volumes.choices):
        return volumes
    unknown = VolumeChoice(
        id=volume_id,
        name="",
        size=0,
        status="",
        eligible=True,
        needs_force=False,
        reason="Not in the dashboard's mirror; Cinder decides when it answers again.",
    )
    return dataclasses.replace(volumes, choices=[*volumes.choices, unknown])
