"""A snapshot's life as a timeline of statuses, computed from its StatusChange rows.

The detail page shows it, and the audit views reuse it: how long a snapshot spent `creating`
is the question people ask when a backend is slow, and Cinder itself keeps no such history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from snapshots.formatting import duration
from snapshots.models import Snapshot, StatusChange


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One stay in one status: from the change that entered it to the change that left it."""

    status: str
    from_status: str
    started_at: datetime
    ended_at: datetime | None  # None: the snapshot is still in this status
    duration: timedelta  # up to `ended_at`, or up to now (or deletion) for the current status
    source: str
    progress: int | None
    current: bool

    @property
    def seconds(self) -> float:
        return self.duration.total_seconds()

    @property
    def duration_label(self) -> str:
        return duration(self.duration)


def timeline_from_changes(
    changes: Iterable[StatusChange], *, now: datetime | None = None
) -> list[TimelineEntry]:
    """Turn status changes (any order) into consecutive stays, oldest first.

    A change whose `to_status` repeats the status already held (a sync that saw the same
    status again after a gap) extends the current stay instead of starting a new one.
    """
    now = now or timezone.now()
    ordered = sorted(changes, key=lambda c: (c.observed_at, c.pk or 0))
    stays: list[dict] = []
    for change in ordered:
        if stays and stays[-1]["status"] == change.to_status:
            if change.progress is not None:
                stays[-1]["progress"] = change.progress
            continue
        stays.append(
            {
                "status": change.to_status,
                "from_status": change.from_status,
                "started_at": change.observed_at,
                "source": change.source,
                "progress": change.progress,
            }
        )
    entries: list[TimelineEntry] = []
    for index, stay in enumerate(stays):
        last = index == len(stays) - 1
        ended_at = None if last else stays[index + 1]["started_at"]
        # "deleted" is an end, not a stay: it has no duration of its own.
        until = ended_at or (stay["started_at"] if stay["status"] == "deleted" else now)
        entries.append(
            TimelineEntry(
                status=stay["status"],
                from_status=stay["from_status"],
                started_at=stay["started_at"],
                ended_at=ended_at,
                duration=max(until - stay["started_at"], timedelta(0)),
                source=stay["source"],
                progress=stay["progress"],
                current=last,
            )
        )
    return entries


def snapshot_timeline(snapshot: Snapshot, *, now: datetime | None = None) -> list[TimelineEntry]:
    """The timeline of one snapshot (one query). The caller has already checked visibility."""
    changes = StatusChange.objects.filter(snapshot_id=snapshot.pk).order_by("observed_at", "id")
    return timeline_from_changes(changes, now=now)


def time_in_status(entries: Iterable[TimelineEntry], status: str) -> timedelta:
    """Total time spent in `status` over the whole timeline (e.g. how long it was `creating`)."""
    return sum((e.duration for e in entries if e.status == status), timedelta(0))
