"""Every snapshot a gateway lists, one page at a time: tests compare the mirror with this; and
`synced`, a quiet cloud with the mirror equal to it (a fixture for the detection tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from snapshots.choices import TRANSITIONAL
from snapshots.cloud.dto import SnapshotPage
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot
from snapshots.services import detect, sync


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


@pytest.fixture(name="synced")
def synced_fixture(cloud, service_gateway):
    """A quiet cloud (the demo's transitional snapshots settled), a mirror equal to it, a first
    tick behind it (the watermark), and clean stats."""
    for page in snapshot_pages(service_gateway, all_projects=True):
        for data in page.items:
            if data.status in TRANSITIONAL:
                service_gateway.reset_snapshot_status(data.id, "available")
    sync.sync_snapshots()
    detect.detect()
    cloud.advance(10)  # the demo's own creates and deletes settle
    detect.detect()
    cloud.reset_stats()
    return cloud
