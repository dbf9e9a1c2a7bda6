"""Every snapshot a gateway lists, one page at a time: tests compare the mirror with this."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from snapshots.cloud.dto import SnapshotPage
from snapshots.cloud.gateway import Gateway


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
