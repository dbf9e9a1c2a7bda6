"""Which volumes Cinder will snapshot, which actions a snapshot offers, and why not.

Cinder takes a snapshot of an `available` volume, and of an `in-use` one when `force` is sent
(below microversion 3.66) or always (3.66 and later). Every other status is refused with a 400.
The create form and the volumes page show the answer before anyone clicks; they read the volume
mirror, never Cinder. Cinder stays the last word on the POST.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from snapshots.choices import DELETABLE, SET_STATUS_TRANSITIONS, Status
from snapshots.models import Snapshot, Volume
from snapshots.permissions import Action, Scope, can

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


def assess(volume: Volume, *, in_use_needs_force: bool) -> VolumeChoice:
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
    """The volumes of the user's project, as the volume mirror holds them."""

    choices: list[VolumeChoice]
    # Whether an in-use volume needs "force": that depends on the microversion, which only a
    # call would tell, so the form always offers the box; the gateway sends it only when needed.
    needs_force: bool = True


def project_volumes(*, scope: Scope) -> ProjectVolumes:
    """The volumes of the user's current project, from the mirror (no cloud call)."""
    rows = Volume.objects.filter(project_id=scope.project_id, deleted_at__isnull=True)
    volumes = sorted(rows, key=lambda v: (v.name.lower(), v.id))
    return ProjectVolumes(choices=[assess(v, in_use_needs_force=True) for v in volumes])


def keep_posted_volume(volumes: ProjectVolumes, volume_id: str) -> ProjectVolumes:
    """The mirror may not hold a volume made in the last minute: keep the person's choice
    (Cinder decides, and says why not in its own words) instead of calling it invalid."""
    if not volume_id or any(v.id == volume_id for v in volumes.choices):
        return volumes
    unknown = VolumeChoice(
        id=volume_id,
        name="",
        size=0,
        status="",
        eligible=True,
        needs_force=False,
        reason="Not in the dashboard's mirror yet; Cinder decides.",
    )
    return dataclasses.replace(volumes, choices=[*volumes.choices, unknown])


# --- which actions a snapshot offers -------------------------------------------------------
def why_not_force_deletable(snapshot: Snapshot) -> str:
    """Empty when a force delete may be sent (whatever the status), else the reason."""
    return "It has already been deleted." if snapshot.deleted_at is not None else ""


def why_not_deletable(snapshot: Snapshot) -> str:
    """Empty when a plain delete may be sent, else the reason (shown instead of the button)."""
    if gone := why_not_force_deletable(snapshot):
        return gone
    if snapshot.status not in DELETABLE:
        return (
            f"Its status is {snapshot.get_status_display().lower()}; Cinder deletes only "
            "available or error snapshots."
        )
    if snapshot.group_snapshot_id:
        return "It belongs to a group snapshot; delete the group snapshot instead."
    return ""


def allowed_set_statuses(current: str) -> tuple[str, ...]:
    """The statuses os-update_snapshot_status accepts from `current` (empty: none)."""
    if current not in Status.values:
        return ()
    return tuple(str(s) for s in SET_STATUS_TRANSITIONS.get(Status(current), ()))


def why_not_settable(current: str) -> str:
    if allowed_set_statuses(current):
        return ""
    return (
        f"Cinder changes the status this way only from creating or deleting; this "
        f"snapshot is {current}. Use reset status instead."
    )


@dataclass(frozen=True, slots=True)
class PermittedActions:
    """The action buttons one user gets on one snapshot (pages show these and no others)."""

    edit: bool = False
    delete: bool = False
    delete_reason: str = ""
    force_delete: bool = False
    reset_status: bool = False
    set_status: bool = False

    @property
    def admin(self) -> bool:
        return self.force_delete or self.reset_status or self.set_status

    @property
    def any(self) -> bool:
        return self.edit or self.delete or self.admin


def permitted_actions(scope: Scope | None, snapshot: Snapshot | None) -> PermittedActions:
    """The one place that decides which actions a page offers on a snapshot. Pure: no query."""
    if scope is None or snapshot is None:
        return PermittedActions()
    project = snapshot.project_id
    live = snapshot.deleted_at is None
    return PermittedActions(
        edit=live and can(scope, Action.EDIT, project),
        delete=live and can(scope, Action.DELETE, project),
        delete_reason=why_not_deletable(snapshot),
        force_delete=live and can(scope, Action.FORCE_DELETE, project),
        reset_status=live and can(scope, Action.RESET_STATUS, project),
        set_status=live
        and can(scope, Action.SET_STATUS, project)
        and bool(allowed_set_statuses(snapshot.status)),
    )
