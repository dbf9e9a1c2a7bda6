"""Create a snapshot of a volume of the user's current project."""

from __future__ import annotations

from snapshots import memo
from snapshots.models import Snapshot, Volume
from snapshots.permissions import Action
from snapshots.services import quota
from snapshots.services.new_snapshot import make_snapshot, record_new_snapshot
from snapshots.services.snapshots import (
    ActionResult,
    Attempt,
    Caller,
    admit,
    refuse,
)


def snapshot_create(
    *,
    caller: Caller,
    volume_id: str,
    name: str,
    description: str,
    metadata: dict[str, str],
    force: bool,
    volume_name: str | None = None,
) -> ActionResult:
    """Snapshot a volume; the result's snapshot is the new mirror row (creating)."""
    scope = caller.scope
    wanted = {"name": name, "description": description, "metadata": metadata, "force": force}
    attempt = Attempt(
        caller,
        "create_snapshot",
        scope.project_id,
        subject=volume_id,
        parameters={"volume_id": volume_id, **wanted},
    )
    earlier = admit(attempt, Action.CREATE)
    if earlier is not None:
        return earlier
    size = Volume.objects.filter(pk=volume_id).values_list("size", flat=True).first() or 0
    reason = quota.quota_refusal(quota.quota_for(scope.project_id), snapshots=1, gigabytes=size)
    if reason:
        raise refuse(attempt, reason)
    data = make_snapshot(
        attempt,
        lambda: caller.gateway.create_snapshot(
            volume_id=volume_id,
            name=name,
            description=description,
            metadata=metadata or None,
            force=force,
        ),
        volume_id=volume_id,
        name=name,
        description=description,
    )

    def name_the_project(row: Snapshot) -> None:
        if not row.project_name and row.project_id == scope.project_id and scope.project_name:
            Snapshot.objects.filter(pk=row.pk).update(project_name=scope.project_name)
            memo.changed()
            row.project_name = scope.project_name

    return record_new_snapshot(
        attempt, data, volume_name=volume_name, verb="created", then=name_the_project
    )
