"""The mirror's write paths on their own: one snapshot (actions), a page in bulk (sync), the
vanished sweep, stuck flags and the back-off arithmetic."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud.dto import SnapshotData
from snapshots.models import Snapshot, StatusChange
from snapshots.services import mirror

pytestmark = pytest.mark.django_db

ALPHA = "a" * 32
BASE = timezone.now() - timedelta(days=1)


def data(n: int, **kw) -> SnapshotData:
    values = {
        "id": f"snap-{n:06d}",
        "name": f"snapshot {n}",
        "description": "",
        "status": "available",
        "size": 1,
        "volume_id": f"vol-{n % 7}",
        "project_id": ALPHA,
        "created_at": BASE - timedelta(seconds=n),
        "progress": 100,
    }
    values.update(kw)
    return SnapshotData(**values)


def page(items, now=None, source=ChangeSource.SYNC):
    return mirror.apply_page(
        items,
        source=source,
        now=now or timezone.now(),
        volume_names={"vol-1": "one"},
        project_names={ALPHA: "alpha"},
    )


def test_a_page_costs_a_few_bulk_statements_not_one_per_row(django_assert_max_num_queries):
    # Bulk statements are cut to the database's bound-parameter limit (999 on SQLite builds
    # that still have it): 600 rows of 26 columns make about 16 INSERTs, not 600.
    items = [data(n) for n in range(600)]
    with django_assert_max_num_queries(30):
        result = page(items)
    assert (result.new, result.changed, result.unchanged) == (600, 0, 0)
    assert StatusChange.objects.filter(source=ChangeSource.SYNC, from_status="").count() == 600
    row = Snapshot.objects.get(pk="snap-000001")
    assert (row.project_name, row.volume_name, row.version) == ("alpha", "one", 1)

    moved = [
        dataclasses.replace(d, status="error") if n % 3 == 0 else d for n, d in enumerate(items)
    ]
    with django_assert_max_num_queries(30):
        result = page(moved)
    assert (result.new, result.changed, result.unchanged) == (0, 200, 400)
    assert StatusChange.objects.filter(from_status="available", to_status="error").count() == 200
    assert Snapshot.objects.get(pk="snap-000000").version == 2
    assert Snapshot.objects.get(pk="snap-000001").version == 1


def test_a_page_read_before_a_later_observation_does_not_overwrite_it():
    read_at = timezone.now()
    page([data(1), data(2)], now=read_at - timedelta(seconds=1))
    mirror.apply(data(1, status="deleting"), source=ChangeSource.ACTION)
    mirror.mark_gone("snap-000002", source=ChangeSource.ACTION)

    result = page([data(1), data(2)], now=read_at)  # requested before both actions

    assert (result.new, result.changed) == (0, 0)
    assert Snapshot.objects.get(pk="snap-000001").status == "deleting"
    assert Snapshot.objects.get(pk="snap-000002").deleted_at is not None


def test_a_row_first_seen_in_a_stuck_status_is_stuck_at_once():
    now = timezone.now()
    old = data(1, status="creating", created_at=now - timedelta(hours=3))
    recent = data(2, status="deleting", updated_at=now - timedelta(minutes=1))
    page([old, recent], now=now)
    # Stuck since it crossed the threshold, three hours after it started creating.
    assert Snapshot.objects.get(pk=old.id).stuck_since == old.created_at + settings.STUCK_AFTER
    assert Snapshot.objects.get(pk=recent.id).stuck_since is None
    assert Snapshot.objects.get(pk=recent.id).next_check_at == now + timedelta(seconds=2)


def test_vanished_rows_are_marked_in_batches_with_their_history(django_assert_max_num_queries):
    start = timezone.now()
    page([data(n) for n in range(1100)], now=start - timedelta(minutes=1))
    page([data(n) for n in range(50)], now=start)  # only these were seen by this sync
    with django_assert_max_num_queries(40):  # three batches of 500
        gone = mirror.mark_vanished(seen_since=start, source=ChangeSource.SYNC, now=start)
    assert gone == 1050
    assert Snapshot.objects.live().count() == 50
    assert StatusChange.objects.filter(to_status=mirror.GONE, source="sync").count() == 1050
    assert mirror.mark_vanished(seen_since=start, source=ChangeSource.SYNC, now=start) == 0


def test_apply_bumps_the_version_only_for_what_a_page_shows():
    row, changed = mirror.apply(data(1, status="creating"), source=ChangeSource.ACTION)
    assert changed and row.version == 1 and row.check_interval == mirror.FIRST_CHECK
    row, changed = mirror.apply(data(1, status="creating"), source=ChangeSource.TRACK)
    assert not changed and row.version == 1
    row, changed = mirror.apply(data(1, status="creating", progress=40), source=ChangeSource.TRACK)
    assert changed and row.version == 2
    row, changed = mirror.apply(data(1), source=ChangeSource.TRACK)
    assert changed and row.version == 3 and row.next_check_at is None
    assert [(c.from_status, c.to_status) for c in row.status_changes.order_by("id")] == [
        ("", "creating"),
        ("creating", "available"),
    ]


def test_a_snapshot_back_from_the_dead_records_where_it_came_from():
    mirror.apply(data(1), source=ChangeSource.SYNC)
    assert mirror.mark_gone("snap-000001", source=ChangeSource.SYNC)
    assert not mirror.mark_gone("snap-000001", source=ChangeSource.SYNC)
    row, _ = mirror.apply(data(1), source=ChangeSource.SYNC)
    assert row.deleted_at is None
    assert [(c.from_status, c.to_status) for c in row.status_changes.order_by("id")] == [
        ("", "available"),
        ("available", "deleted"),
        ("deleted", "available"),
    ]


def test_back_off_doubles_from_two_seconds_up_to_five_minutes():
    interval, seen = 0.0, []
    for _ in range(10):
        interval = mirror.next_interval(interval)
        seen.append(interval)
    assert seen == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_stuck_flags_come_and_go_with_time_and_status(settings):
    row, _ = mirror.apply(data(1, status="error_deleting"), source=ChangeSource.SYNC)
    now = timezone.now()
    assert mirror.flag_stuck_rows(now) == 0
    assert mirror.flag_stuck_rows(now + settings.STUCK_AFTER) == 1
    flagged = Snapshot.objects.get(pk=row.pk)
    assert flagged.is_stuck and flagged.version == row.version + 1
    Snapshot.objects.filter(pk=row.pk).update(status="error")
    mirror.flag_stuck_rows(now)
    assert Snapshot.objects.get(pk=row.pk).stuck_since is None


def test_a_page_whose_insert_met_another_workers_row_is_stored_once_more(monkeypatch):
    # Another worker's insert of the same new snapshot lands between our read and our write:
    # our first attempt's insert conflicts, is rolled back, and the page is stored again.
    writes = []
    real_write = mirror._PageWrites.write

    def meet_the_other_row_once(self, model, **kwargs):
        writes.append(len(self.new_rows))
        if len(writes) == 1:
            Snapshot.objects.bulk_create([copy.copy(self.new_rows[0])])
        return real_write(self, model, **kwargs)

    monkeypatch.setattr(mirror._PageWrites, "write", meet_the_other_row_once)
    result = page([data(1), data(2)])
    assert writes == [2, 2]
    assert result.new == 2
    assert set(Snapshot.objects.values_list("pk", flat=True)) == {"snap-000001", "snap-000002"}
