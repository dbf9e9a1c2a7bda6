"""Manage and unmanage snapshots (admins).

Unmanaging removes a snapshot from Cinder and leaves it on the backend, where it shows up as
manageable. `refresh_manageable` reads a host's manageable snapshots into the mirror (a POST of
the Manageable page: the listing asks the backend's driver); `manage_snapshot` brings one back
under Cinder's management as a new snapshot, `creating` and then `available`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from snapshots import selectors
from snapshots.choices import DELETABLE
from snapshots.cloud.gateway import Gateway
from snapshots.models import ManageableSnapshot, Snapshot, Volume
from snapshots.permissions import Action, Scope, require
from snapshots.services import queue, quota
from snapshots.services.new_snapshot import make_snapshot, record_new_snapshot
from snapshots.services.snapshot_change import change_snapshot
from snapshots.services.snapshots import ActionRefused, ActionResult, Attempt, Caller, admit, refuse

TRACK_TASK = "snapshots.tasks.track"
UNMANAGE = "unmanage_snapshot"
MANAGE = "manage_snapshot"


def unmanage_refusal(snapshot: Snapshot) -> str:
    if snapshot.deleted_at is not None:
        return "This snapshot no longer exists in Cinder."
    if snapshot.status not in DELETABLE:
        return (
            f"Only an available or error snapshot can be unmanaged; this one is {snapshot.status}."
        )
    if snapshot.group_snapshot_id:
        return "A snapshot that is part of a group snapshot cannot be unmanaged."
    return ""


def snapshot_unmanage(*, caller: Caller, snapshot_id: str) -> ActionResult:
    """Remove the snapshot from Cinder; the backend keeps its data."""
    snapshot = selectors.get_snapshot(caller.scope, snapshot_id)
    return change_snapshot(
        caller,
        snapshot,
        UNMANAGE,
        Action.MANAGE,
        {"snapshot_id": snapshot.id},
        refusal=unmanage_refusal(snapshot),
        call=lambda: caller.gateway.unmanage_snapshot(snapshot.id),
    )


def source_volume_id(reference: dict) -> str:
    """The volume id of a source reference such as {"source-name": "volume-<id>"}."""
    name = str((reference or {}).get("source-name") or (reference or {}).get("source-id") or "")
    return name.removeprefix("volume-")


def refresh_manageable(*, scope: Scope, gateway: Gateway, host: str) -> int:
    """Read the host's manageable snapshots into the mirror; returns how many it holds."""
    require(scope, Action.MANAGE)
    entries = gateway.list_manageable_snapshots(host)
    now = timezone.now()
    with transaction.atomic():
        ManageableSnapshot.objects.filter(host=host).delete()
        ManageableSnapshot.objects.bulk_create(
            [
                ManageableSnapshot(
                    host=host,
                    name=str(e.reference.get("source-name") or e.reference)[:255],
                    reference=e.reference,
                    size=e.size,
                    safe_to_manage=e.safe_to_manage,
                    reason_not_safe=e.reason_not_safe[:255],
                    cinder_id=e.cinder_id,
                    source_volume_id=source_volume_id(e.source_reference),
                    fetched_at=now,
                )
                for e in entries
            ]
        )
    return len(entries)


def manage_refusal(entry: ManageableSnapshot, volume: Volume | None, project_id: str) -> str:
    if not entry.safe_to_manage:
        return f"The backend says this snapshot is not safe to manage: {entry.reason_not_safe}."
    if volume is None:
        return "Its volume is not one Cinder knows (no volume in the mirror has that id)."
    if volume.status not in ("available", "in-use"):
        return f"Its volume must be available or in-use; it is {volume.status}."
    return quota.quota_refusal(quota.quota_for(project_id), snapshots=1, gigabytes=entry.size)


def snapshot_manage(
    *, caller: Caller, entry_id: int, name: str, description: str, metadata: dict[str, str]
) -> ActionResult:
    """Bring a manageable snapshot under Cinder's management, in the admin's current project
    (Cinder makes it in the caller's project)."""
    entry = ManageableSnapshot.objects.filter(pk=entry_id).first()
    if entry is None:
        raise ActionRefused("That backend snapshot is no longer listed; read the list again.")
    wanted = {"name": name, "description": description, "metadata": metadata}
    attempt = Attempt(
        caller,
        MANAGE,
        caller.scope.project_id,
        subject=f"{entry.host}:{entry.name}",
        parameters={
            "host": entry.host,
            "reference": entry.reference,
            "volume_id": entry.source_volume_id,
            **wanted,
        },
    )
    earlier = admit(attempt, Action.MANAGE)
    if earlier is not None:
        return earlier
    volume = Volume.objects.filter(pk=entry.source_volume_id, deleted_at__isnull=True).first()
    reason = manage_refusal(entry, volume, caller.scope.project_id)
    if reason:
        raise refuse(attempt, reason)
    data = make_snapshot(
        attempt,
        lambda: caller.gateway.manage_snapshot(volume_id=volume.id, ref=entry.reference, **wanted),
        volume_id=volume.id,
        name=name,
        description=description,
    )

    def take_off_the_list(row: Snapshot) -> None:
        entry.delete()
        quota.note_use(row.project_id, snapshots=1, gigabytes=row.size)
        queue.enqueue(quota.REFRESH_TASK, project_id=row.project_id)

    return record_new_snapshot(
        attempt, data, volume_name=volume.name, verb="managed", then=take_off_the_list
    )
