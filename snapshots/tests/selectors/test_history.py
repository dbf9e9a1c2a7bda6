"""The status timeline computed from StatusChange rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from snapshots.choices import ChangeSource
from snapshots.models import StatusChange
from snapshots.selectors.history import snapshot_timeline, time_in_status, timeline_from_changes
from snapshots.tests.factories import make_snapshot

T0 = datetime(2026, 5, 1, 12, 0, 0).astimezone()


def change(to: str, seconds: float, frm: str = "", progress=None, source=ChangeSource.TRACK):
    return StatusChange(
        from_status=frm,
        to_status=to,
        observed_at=T0 + timedelta(seconds=seconds),
        progress=progress,
        source=source,
    )


def test_stays_and_durations():
    changes = [
        change("creating", 0, source=ChangeSource.ACTION, progress=0),
        change("available", 42.5, "creating", progress=100),
        change("deleting", 3600, "available", source=ChangeSource.ACTION),
    ]
    entries = timeline_from_changes(changes, now=T0 + timedelta(seconds=3610))
    assert [e.status for e in entries] == ["creating", "available", "deleting"]
    assert entries[0].duration == timedelta(seconds=42.5)
    assert entries[0].ended_at == changes[1].observed_at
    assert entries[1].duration == timedelta(seconds=3557.5)
    assert entries[2].current and entries[2].ended_at is None
    assert entries[2].duration == timedelta(seconds=10)  # so far
    assert [e.current for e in entries] == [False, False, True]
    assert entries[0].source == ChangeSource.ACTION and entries[1].from_status == "creating"


def test_order_of_input_does_not_matter():
    changes = [change("available", 5, "creating"), change("creating", 0)]
    entries = timeline_from_changes(changes, now=T0 + timedelta(seconds=9))
    assert [e.status for e in entries] == ["creating", "available"]


def test_a_repeated_status_extends_the_stay():
    changes = [
        change("creating", 0, progress=10),
        change("creating", 4, "creating", progress=60),
        change("available", 9, "creating", progress=100),
    ]
    entries = timeline_from_changes(changes, now=T0 + timedelta(seconds=20))
    assert [e.status for e in entries] == ["creating", "available"]
    assert entries[0].duration == timedelta(seconds=9)
    assert entries[0].progress == 60


def test_deletion_ends_the_timeline():
    changes = [change("available", 0), change("deleting", 60, "available"), change("deleted", 75)]
    entries = timeline_from_changes(changes, now=T0 + timedelta(days=3))
    assert entries[-1].status == "deleted"
    assert entries[-1].duration == timedelta(0)
    assert entries[1].duration == timedelta(seconds=15)


def test_time_in_status_adds_up_every_stay():
    changes = [
        change("available", 0),
        change("updating", 10, "available"),
        change("available", 25, "updating"),
        change("updating", 100, "available"),
        change("available", 130, "updating"),
    ]
    entries = timeline_from_changes(changes, now=T0 + timedelta(seconds=200))
    assert time_in_status(entries, "updating") == timedelta(seconds=45)
    assert time_in_status(entries, "error") == timedelta(0)


def test_empty():
    assert timeline_from_changes([]) == []


@pytest.mark.django_db
def test_snapshot_timeline_reads_the_rows(django_assert_num_queries):
    snap = make_snapshot("p1", status="creating", history=False)
    for to, frm, at in (("creating", "", 0), ("available", "creating", 30)):
        StatusChange.objects.create(
            snapshot=snap,
            project_id="p1",
            from_status=frm,
            to_status=to,
            observed_at=T0 + timedelta(seconds=at),
            source=ChangeSource.TRACK,
        )
    other = make_snapshot("p1")  # its own history stays out
    assert other.status_changes.count() == 1
    with django_assert_num_queries(1):
        entries = snapshot_timeline(snap, now=T0 + timedelta(seconds=90))
    assert [(e.status, e.duration.total_seconds()) for e in entries] == [
        ("creating", 30.0),
        ("available", 60.0),
    ]
