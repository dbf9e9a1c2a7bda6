"""Every snapshot a gateway lists, one page at a time: tests compare the mirror with this."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from snapshots.cloud.dto import SnapshotPage
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot


def snapshot_pages(
    gateway: Gateway, *, all_projects: bool = True, page_size: int = 1000, **filters: Any
) -> Iterator[SnapshotPage]:
    """Marker paging through list_snapshots until a page has no next marker."""
    marker = None
    while True:
        page = gateway.list_snapshots(
            all_projects=all_projects, limit=page_size, marker=marker, **filters
        )
        yield page
        if not page.next_marker:
            return
        marker = page.next_marker


def cloud_truth(gateway: Gateway) -> dict[str, tuple[str, str]]:
    """id -> (status, name) of every snapshot Cinder has now."""
    return {
        s.id: (s.status, s.name)
        for page in snapshot_pages(gateway, all_projects=True)
        for s in page.items
    }


def live_mirror() -> dict[str, tuple[str, str]]:
    """id -> (status, name) of every live row of the mirror, to compare with cloud_truth()."""
    return {row.id: (row.status, row.name) for row in Snapshot.objects.live()}
