"""Volumes created from a snapshot, asked of Cinder when someone is about to delete it.

The mirror does not hold volumes' source snapshots, so the delete confirmation asks Cinder once
(the project's volume list) and, when the cloud does not answer, says that it cannot tell rather
than claiming there are none. On clone-based backends such a delete ends in `error_deleting`.
"""

from __future__ import annotations

from collections.abc import Iterable

from snapshots.cloud import errors
from snapshots.cloud.dto import VolumeData
from snapshots.cloud.gateway import Gateway


def volumes_from(
    gateway: Gateway, snapshot_ids: Iterable[str], *, all_projects: bool = False
) -> dict[str, list[VolumeData]] | None:
    """{snapshot id: volumes made from it} for the given ids, or None when Cinder cannot say."""
    wanted = set(snapshot_ids)
    found: dict[str, list[VolumeData]] = {sid: [] for sid in wanted}
    try:
        for volume in gateway.iter_volumes(all_projects=all_projects):
            if volume.source_snapshot_id in wanted:
                found[volume.source_snapshot_id].append(volume)
    except errors.NotAuthenticated:
        raise
    except errors.CloudError:
        return None
    return found
