"""The numbers behind every overview chart, from known data, per role, in a bounded number of
queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from snapshots.choices import Outcome
from snapshots.selectors import charts
from snapshots.tests.factories_audit import (
    ALPHA,
    BETA,
    GAMMA,
    event,
    gone,
    make_project,
    make_scope,
    make_snapshot,
    make_volume,
    mark_stuck,
    move,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def projects():
    for project_id in (ALPHA, BETA, GAMMA):
        make_project(project_id)


NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ADMIN = make_scope("admin")
ALPHA_MEMBER = make_scope("member", ALPHA)
AUDITOR_AB = make_scope("reader", ALPHA, readable=frozenset({ALPHA, BETA}))


def at(days: float = 0, seconds: float = 0) -> datetime:
    return NOW - timedelta(days=days, seconds=seconds)


def test_by_status_counts_live_snapshots_per_status():
    for status in ("available", "available", "error", "creating"):
        make_snapshot(ALPHA, status=status, at=at(1))
    make_snapshot(BETA, status="available", at=at(1))
    gone(make_snapshot(ALPHA, status="available", at=at(2)), at(1))
    assert charts.snapshots_by_status(ADMIN).values() == {
        "creating": 1,
        "available": 3,
        "error": 1,
    }
    assert charts.snapshots_by_status(ALPHA_MEMBER).values() == {
        "creating": 1,
        "available": 2,
        "error": 1,
    }


def test_by_project_counts_and_sizes():
    for size in (1, 2, 3):
        make_snapshot(ALPHA, size=size, at=at(1))
    make_snapshot(BETA, size=10, at=at(1))
    make_snapshot(GAMMA, size=100, at=at(1))
    gone(make_snapshot(BETA, size=50, at=at(2)), at(1))
    counts, sizes = charts.snapshots_by_project(ADMIN)
    assert counts.values() == {"alpha": 3, "beta": 1, "gamma": 1}
    assert sizes.values() == {"alpha": 6, "beta": 10, "gamma": 100}
    counts, sizes = charts.snapshots_by_project(AUDITOR_AB)
    assert counts.values() == {"alpha": 3, "beta": 1}
    assert sizes.values() == {"alpha": 6, "beta": 10}


def test_by_project_sums_the_long_tail_into_other(monkeypatch):
    monkeypatch.setattr(charts, "TOP_PROJECTS", 1)
    make_snapshot(ALPHA, size=1, at=at(1))
    make_snapshot(ALPHA, size=1, at=at(1))
    make_snapshot(BETA, size=5, at=at(1))
    make_snapshot(GAMMA, size=7, at=at(1))
    counts, sizes = charts.snapshots_by_project(ADMIN)
    assert counts.values() == {"alpha": 2, "Other projects": 2}
    assert sizes.values() == {"alpha": 2, "Other projects": 12}


def test_created_per_day_fills_every_day_and_counts_deleted_ones():
    make_snapshot(ALPHA, created_at=at(0, 60), at=at(0))
    make_snapshot(ALPHA, created_at=at(2), at=at(2))
    gone(make_snapshot(ALPHA, created_at=at(2, 30), at=at(2)), at(1))
    make_snapshot(BETA, created_at=at(2), at=at(2))
    make_snapshot(ALPHA, created_at=at(10), at=at(1))  # outside a 7-day window
    chart = charts.created_per_day(ALPHA_MEMBER, days=7, now=NOW)
    assert chart.labels == [f"2026-06-{d:02d}" for d in range(9, 16)]
    assert chart.values() == {
        "2026-06-09": 0,
        "2026-06-10": 0,
        "2026-06-11": 0,
        "2026-06-12": 0,
        "2026-06-13": 2,
        "2026-06-14": 0,
        "2026-06-15": 1,
    }
    assert charts.created_per_day(ADMIN, days=7, now=NOW).values()["2026-06-13"] == 3


def test_creating_to_available_distribution_from_status_change_pairs():
    took = {5: ALPHA, 20: ALPHA, 25: ALPHA, 120: ALPHA, 4000: ALPHA, 45: BETA}
    for seconds, project in took.items():
        snap = make_snapshot(project, status="creating", at=at(1, seconds))
        move(snap, "available", at(1))
    make_snapshot(ALPHA, status="available", at=at(1))  # first seen available: no pair
    stuck = make_snapshot(ALPHA, status="creating", at=at(1))  # never became available
    move(stuck, "error", at(0))
    # creating again after an error: timed from the latest entry into creating
    again = make_snapshot(ALPHA, status="creating", at=at(3))
    move(again, "error", at(2))
    move(again, "creating", at(1, 50))
    move(again, "available", at(1))

    result = charts.creating_to_available(ALPHA_MEMBER)
    assert result.histogram.values() == {
        "< 10 s": 1,
        "10-30 s": 2,
        "30 s-1 min": 1,
        "1-5 min": 1,
        "5-15 min": 0,
        "15-60 min": 0,
        ">= 1 h": 1,
    }
    assert result.count == 6
    assert result.average_seconds == pytest.approx((5 + 20 + 25 + 120 + 4000 + 50) / 6)
    assert result.longest_seconds == pytest.approx(4000)
    assert charts.creating_to_available(ADMIN).count == 7


def test_creating_to_available_with_no_pairs():
    result = charts.creating_to_available(ADMIN)
    assert result.count == 0
    assert result.average_seconds is None
    assert sum(result.histogram.series[0].data) == 0


def test_failures_per_day_counts_error_statuses_and_refused_actions():
    a = make_snapshot(ALPHA, status="creating", at=at(3))
    move(a, "error", at(2))
    b = make_snapshot(ALPHA, status="deleting", at=at(1))
    move(b, "error_deleting", at(0, 10))
    c = make_snapshot(BETA, status="creating", at=at(2))
    move(c, "error", at(2))
    member = make_scope("member", ALPHA)
    event(member, outcome=Outcome.REFUSED, project_id=ALPHA, created_at=at(2))
    event(member, outcome=Outcome.FAILED, project_id=ALPHA, created_at=at(0, 5))
    event(member, outcome=Outcome.SUCCESS, project_id=ALPHA, created_at=at(0, 5))
    event(member, outcome=Outcome.DENIED, project_id=ALPHA, created_at=at(0, 5))
    event(make_scope("member", BETA), outcome=Outcome.REFUSED, project_id=BETA, created_at=at(0))

    chart = charts.failures_per_day(ALPHA_MEMBER, days=3, now=NOW)
    assert chart.labels == ["2026-06-13", "2026-06-14", "2026-06-15"]
    assert chart.values(0) == {"2026-06-13": 1, "2026-06-14": 0, "2026-06-15": 1}
    assert chart.values(1) == {"2026-06-13": 1, "2026-06-14": 0, "2026-06-15": 1}
    admin = charts.failures_per_day(ADMIN, days=3, now=NOW)
    assert admin.values(0)["2026-06-13"] == 2
    assert admin.values(1)["2026-06-15"] == 2


def test_stuck_now_lists_flagged_live_snapshots_longest_first():
    first = make_snapshot(ALPHA, status="creating", at=at(2), size=3)
    second = make_snapshot(ALPHA, status="deleting", at=at(2), size=4)
    make_snapshot(ALPHA, status="creating", at=at(2))  # not flagged
    other = make_snapshot(BETA, status="creating", at=at(2))
    mark_stuck(second, at(1))
    mark_stuck(first, at(1, 3600))
    mark_stuck(other, at(1))
    listing = charts.stuck_now(ALPHA_MEMBER)
    assert (listing.count, listing.total_size) == (2, 7)
    assert [s.pk for s in listing.rows] == [first.pk, second.pk]
    assert charts.stuck_by_status(ALPHA_MEMBER).values() == {"creating": 1, "deleting": 1}
    assert charts.stuck_now(ADMIN).count == 3


def test_without_volume_counts_snapshots_whose_volume_is_gone_or_unknown():
    live = make_volume(ALPHA)
    deleted = make_volume(ALPHA, deleted_at=at(1))
    ok = make_snapshot(ALPHA, volume_id=live.id, at=at(1))
    on_deleted = make_snapshot(ALPHA, volume_id=deleted.id, at=at(1), size=2)
    unknown = make_snapshot(ALPHA, volume_id="never-synced", at=at(1), size=5)
    gone(make_snapshot(ALPHA, volume_id="never-synced", at=at(2)), at(1))  # itself deleted
    make_snapshot(BETA, volume_id="never-synced", at=at(1))
    listing = charts.without_volume(ALPHA_MEMBER)
    assert (listing.count, listing.total_size) == (2, 7)
    assert {s.pk for s in listing.rows} == {on_deleted.pk, unknown.pk}
    assert ok.pk not in {s.pk for s in listing.rows}
    assert charts.without_volume(ADMIN).count == 3


@pytest.mark.parametrize(("days", "expected"), [(90, 2), (30, 3), (365, 0)])
def test_older_than_n_days(days, expected):
    make_snapshot(ALPHA, created_at=at(100), at=at(1), size=2)
    make_snapshot(ALPHA, created_at=at(200), at=at(1), size=3)
    make_snapshot(ALPHA, created_at=at(40), at=at(1))
    make_snapshot(ALPHA, created_at=at(1), at=at(1))
    gone(make_snapshot(ALPHA, created_at=at(300), at=at(1)), at(0))
    make_snapshot(BETA, created_at=at(300), at=at(1))
    listing = charts.older_than(ALPHA_MEMBER, days=days, now=NOW)
    assert listing.count == expected
    assert [s.created_at for s in listing.rows] == sorted(s.created_at for s in listing.rows)


def test_older_than_lists_at_most_the_limit_but_counts_all():
    for d in range(5):
        make_snapshot(ALPHA, created_at=at(100 + d), at=at(1), size=1)
    listing = charts.older_than(ADMIN, days=90, now=NOW, limit=2)
    assert (listing.count, listing.total_size, len(listing.rows)) == (5, 5, 2)
    assert listing.rows[0].created_at == at(104)


def test_an_auditor_limited_to_projects_sees_only_those():
    make_snapshot(ALPHA, at=at(1))
    make_snapshot(BETA, at=at(1))
    make_snapshot(GAMMA, at=at(1))
    assert sum(charts.snapshots_by_status(AUDITOR_AB).series[0].data) == 2
    assert sum(charts.snapshots_by_status(make_scope("reader")).series[0].data) == 3


def test_overview_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    for i in range(30):
        snap = make_snapshot(
            (ALPHA, BETA, GAMMA)[i % 3], status="creating", at=at(i % 10, 30), size=i
        )
        move(snap, "available" if i % 4 else "error", at(i % 10))
        if i % 5 == 0:
            mark_stuck(snap, at(0))
        event(make_scope("member", snap.project_id), target=snap, outcome=Outcome.REFUSED)
    with django_assert_max_num_queries(16):
        result = charts.overview(ADMIN, now=NOW)
        payload = result.charts()
    assert sum(payload["by_status"]["datasets"][0]["data"]) == 30
    assert len(payload["created_per_day"]["labels"]) == charts.DEFAULT_DAYS
