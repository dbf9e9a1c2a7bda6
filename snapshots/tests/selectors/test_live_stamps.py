"""The shared read behind open tabs' live checks (selectors/live_stamps.py): one query per period
for every watched row, rows read before their first answer, unknown rows as 0, rows nobody asks
about forgotten, and each check reading its own rows past the limit."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from snapshots.models import Snapshot
from snapshots.selectors import live_stamps
from snapshots.selectors.live_stamps import SharedStamps
from snapshots.tests.factories import make_snapshot
from snapshots.tests.views.browse_helpers import projects_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


class Clock:
    now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def board(settings):
    settings.LIVE_STAMP_REFRESH_SECONDS = 0.25
    return SharedStamps(clock=Clock())


def test_rows_are_read_once_per_period_for_every_tab(board, projects):
    rows = [make_snapshot(projects["alpha"], status="creating", history=False) for _ in range(4)]
    a, b = [rows[0].pk, rows[1].pk], [rows[2].pk, rows[3].pk]
    with CaptureQueriesContext(connection) as queries:
        first = board.stamp(a)
        board.stamp(b)  # new rows: read at once
        assert board.stamp(a) == first
    assert len(queries) == 2
    Snapshot.objects.filter(pk=rows[0].pk).update(version=rows[0].version + 4)
    assert board.stamp(a) == first  # within the period
    board.clock.now += 0.25
    with CaptureQueriesContext(connection) as queries:
        assert board.stamp(a) == first + 4
        board.stamp(b)
    assert len(queries) == 1 and all(pk in queries[0]["sql"] for pk in a + b)


def test_a_row_the_mirror_does_not_hold_counts_nothing(board, projects):
    row = make_snapshot(projects["alpha"], status="creating", history=False)
    assert board.stamp([row.pk, "no-such-snapshot"]) == row.version


def test_rows_nobody_asks_about_are_forgotten(board, projects):
    old, new = (make_snapshot(projects["alpha"], status="creating", history=False) for _ in "ab")
    board.stamp([old.pk])
    board.clock.now += live_stamps.KEEP + 1
    with CaptureQueriesContext(connection) as queries:
        board.stamp([new.pk])
    assert new.pk in queries[0]["sql"] and old.pk not in queries[0]["sql"]


def test_past_the_limit_each_check_reads_its_own_rows(board, projects, monkeypatch):
    monkeypatch.setattr(live_stamps, "LIMIT", 2)
    rows = [make_snapshot(projects["alpha"], status="creating", history=False) for _ in range(3)]
    board.stamp([rows[0].pk, rows[1].pk])
    with CaptureQueriesContext(connection) as queries:
        assert board.stamp([rows[2].pk]) == rows[2].version
        assert board.stamp([rows[2].pk]) == rows[2].version  # not kept: read again
    assert len(queries) == 2
