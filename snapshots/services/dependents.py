"""Volumes created from a snapshot, shown when someone is about to delete it.

On clone-based backends deleting such a snapshot ends in `error_deleting`. The volume mirror
(kept by sync) records each volume's source snapshot, so the confirmation page asks no one.
"""

from __future__ import annotations

from collections.abc import Iterable

from snapshots.models import Volume
from snapshots.permissions import Scope


def volumes_from(scope: Scope, snapshot_ids: Iterable[str]) -> dict[str, list[Volume]]:
    """{snapshot id: live volumes made from it} for the given ids, among what `scope` may see."""
    wanted = set(snapshot_ids)
    found: dict[str, list[Volume]] = {sid: [] for sid in wanted}
    rows = Volume.objects.filter(snapshot_id__in=wanted, deleted_at__isnull=True)
    if scope.readable_projects is not None:
        rows = rows.filter(project_id__in=scope.readable_projects)
    for volume in rows.order_by("name", "id"):
        found[volume.snapshot_id].append(volume)
    return found
