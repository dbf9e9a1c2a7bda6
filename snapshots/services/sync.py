"""The names the rest of the project (commands, tests, benchmarks) has always called.

- `sync_snapshots`: the whole inventory now, one sweep round at once (services/sweep.py).
- `track_snapshots`: with a snapshot id, that snapshot now (an action asks for it); without,
  one detection tick (services/detect.py), which replaced the per-project tracker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from snapshots.cloud.gateway import Gateway
from snapshots.services import detect, mirror, sweep
from snapshots.services.listing import pages as _pages  # noqa: F401  (kept for callers)

SYNC_LOCK = sweep.SWEEP_LOCK
SyncResult = sweep.SweepResult
TrackResult = detect.DetectResult


def sync_snapshots(
    *,
    gateway: Gateway | None = None,
    page_size: int | None = None,
    on_page: Callable[[int, int], Any] | None = None,
) -> sweep.SweepResult:
    """Bring the whole mirror up to date. Raises locks.LockHeld when a sweep runs elsewhere, and
    errors.CloudError (after marking the cloud unreachable) when Cinder fails."""
    result = sweep.sweep_all(gateway=gateway, page_size=page_size, on_page=on_page)
    mirror.refresh_statistics(result.new)
    return result


def track_snapshots(
    *, snapshot_id: str | None = None, gateway: Gateway | None = None
) -> detect.DetectResult:
    if snapshot_id:
        return detect.check_snapshot(snapshot_id, gateway=gateway)
    return detect.detect(gateway=gateway)
