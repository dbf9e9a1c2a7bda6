"""Small helpers every view uses."""

from __future__ import annotations

from snapshots.models import Snapshot
from snapshots.permissions import Action, require
from snapshots.selectors import get_snapshot


def client_addr(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def small_int(value: str | None, *, digits: int = 18) -> int | None:
    """A non-negative ASCII number of at most `digits` digits, else None (never an exception)."""
    if value and value.isascii() and value.isdigit() and len(value) <= digits:
        return int(value)
    return None


def viewed_snapshot(request, snapshot_id: str) -> Snapshot:
    """The snapshot a page shows: the VIEW permission, then the scoped lookup (404 for a
    snapshot of a project the person may not see)."""
    require(request.dashboard_scope, Action.VIEW)
    return get_snapshot(request.dashboard_scope, snapshot_id)
