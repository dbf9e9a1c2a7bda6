"""Every filter of the snapshot list, alone, together, and with bad input."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from snapshots.filters import SnapshotFilter
from snapshots.models import Snapshot
from snapshots.permissions import ProjectRef, Scope
from snapshots.selectors import visible_snapshots
from snapshots.tests.factories import make_project, make_snapshot

pytestmark = pytest.mark.django_db

ALPHA, BETA = "p-alpha", "p-beta"


def _scope(
    user: str,
    name: str,
    roles: set[str],
    projects: tuple[ProjectRef, ...],
    readable: frozenset[str] | None,
) -> Scope:
    return Scope(
        user_id=user,
        username=name,
        project_id=ALPHA,
        project_name="alpha",
        roles=frozenset(roles),
        projects=projects,
        readable_projects=readable,
    )


BOTH = (ProjectRef(ALPHA, "alpha"), ProjectRef(BETA, "beta"))


def member() -> Scope:
    return _scope("u1", "demo", {"member", "reader"}, BOTH, frozenset({ALPHA}))


def admin() -> Scope:
    return _scope("u2", "admin", {"admin", "member", "reader"}, BOTH[:1], None)


def auditor() -> Scope:
    return _scope("u3", "auditor", {"reader"}, BOTH, frozenset({ALPHA, BETA}))


def run(data: dict, scope: Scope | None = None) -> tuple[SnapshotFilter, set[str]]:
    scope = scope or admin()
    filterset = SnapshotFilter(data, queryset=visible_snapshots(scope), scope=scope)
    return filterset, set(filterset.qs.values_list("id", flat=True))


@pytest.fixture
def rows():
    make_project(ALPHA, "alpha")
    make_project(BETA, "beta")
    now = timezone.now()
    day = timedelta(days=1)
    return {
        "old": make_snapshot(
            ALPHA,
            name="nightly-db",
            description="before upgrade",
            status="available",
            size=10,
            volume_id="vol-a",
            volume_name="database",
            created_at=now - 40 * day,
            metadata={"team": "db", "tier": "gold"},
        ),
        "new": make_snapshot(
            ALPHA,
            name="weekly-web",
            description="",
            status="creating",
            size=50,
            volume_id="vol-b",
            volume_name="web",
            created_at=now - day,
            metadata={"team": "web"},
        ),
        "err": make_snapshot(
            ALPHA,
            name="broken",
            status="error",
            size=5,
            volume_id="vol-b",
            volume_name="web",
            created_at=now - 10 * day,
        ),
        "errdel": make_snapshot(
            BETA,
            name="stuck-one",
            status="error_deleting",
            size=100,
            volume_id="vol-c",
            volume_name="logs",
            created_at=now - 3 * day,
            stuck_since=now - day,
        ),
        "gone": make_snapshot(ALPHA, name="deleted", deleted_at=now),
    }


def ids(rows, *names) -> set[str]:
    return {rows[name].pk for name in names}


def test_no_filter_shows_every_live_row(rows):
    assert run({})[1] == ids(rows, "old", "new", "err", "errdel")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("nightly", {"old"}),
        ("UPGRADE", {"old"}),  # description, any case
        ("  web ", {"new"}),
        ("", {"old", "new", "err", "errdel"}),
    ],
)
def test_search_over_name_and_description(rows, q, expected):
    assert run({"q": q})[1] == ids(rows, *expected)


def test_search_over_id(rows):
    target = rows["err"]
    assert run({"q": target.pk[:13]})[1] == {target.pk}


def test_status_is_multi_select(rows):
    assert run({"status": ["creating", "error"]})[1] == ids(rows, "new", "err")
    assert run({"status": ["available"]})[1] == ids(rows, "old")


def test_unknown_status_is_an_error_not_an_empty_list(rows):
    filterset, found = run({"status": ["melting"], "q": "web"})
    assert "status" in filterset.form.errors
    assert found == ids(rows, "new")


@pytest.mark.parametrize(("value", "expected"), [("vol-b", {"new", "err"}), ("database", {"old"})])
def test_volume_by_id_or_name(rows, value, expected):
    assert run({"volume": value})[1] == ids(rows, *expected)


def test_project_filter_for_admins_and_auditors(rows):
    assert run({"project": BETA})[1] == ids(rows, "errdel")
    assert run({"project": BETA}, auditor())[1] == ids(rows, "errdel")
    choices = dict(
        SnapshotFilter({}, queryset=Snapshot.objects.none(), scope=auditor())
        .filters["project"]
        .extra["choices"]
    )
    assert choices == {ALPHA: "alpha", BETA: "beta"}


def test_project_outside_the_scope_is_refused(rows):
    filterset, found = run({"project": "p-gamma"}, auditor())
    assert "project" in filterset.form.errors
    assert found == ids(rows, "old", "new", "err", "errdel")


def test_project_outside_the_scope_is_refused_by_the_id_box_too(rows, settings):
    settings.PROJECT_MENU_MAX = 1  # the auditor reads two projects: a box, not a menu
    filterset, found = run({"project": "p-gamma"}, auditor())
    assert "project" in filterset.form.errors
    assert found == ids(rows, "old", "new", "err", "errdel")
    filterset, found = run({"project": BETA}, auditor())
    assert not filterset.form.errors
    assert found == ids(rows, "errdel")


def test_members_have_no_project_filter(rows):
    filterset, found = run({"project": BETA}, member())
    assert "project" not in filterset.filters
    assert found == ids(rows, "old", "new", "err")


def test_size_range(rows):
    assert run({"size_min": "10"})[1] == ids(rows, "old", "new", "errdel")
    assert run({"size_max": "10"})[1] == ids(rows, "old", "err")
    assert run({"size_min": "6", "size_max": "50"})[1] == ids(rows, "old", "new")


def test_inverted_size_range_is_reported_and_the_bad_end_dropped(rows):
    filterset, found = run({"size_min": "60", "size_max": "10"})
    assert "size_max" in filterset.form.errors
    assert found == ids(rows, "errdel")  # size_min alone still applies


def test_created_range_by_day(rows):
    today = timezone.localdate()
    week_ago = (today - timedelta(days=7)).isoformat()
    assert run({"created_after": week_ago})[1] == ids(rows, "new", "errdel")
    assert run({"created_before": week_ago})[1] == ids(rows, "old", "err")
    both = {"created_after": (today - timedelta(days=20)).isoformat(), "created_before": week_ago}
    assert run(both)[1] == ids(rows, "err")


def test_created_before_includes_the_whole_day(rows):
    day = timezone.localtime(rows["new"].created_at).date()
    assert rows["new"].pk in run({"created_before": day.isoformat()})[1]
    assert rows["new"].pk in run({"created_after": day.isoformat()})[1]


def test_bad_dates_are_reported(rows):
    filterset, found = run({"created_after": "2026-02-31", "status": ["error"]})
    assert "created_after" in filterset.form.errors
    assert found == ids(rows, "err")
    filterset, _ = run({"created_after": "2026-05-02", "created_before": "2026-05-01"})
    assert "created_before" in filterset.form.errors


def test_metadata_key_and_value(rows):
    assert run({"meta_key": "team"})[1] == ids(rows, "old", "new")
    assert run({"meta_key": "team", "meta_value": "db"})[1] == ids(rows, "old")
    assert run({"meta_key": "tier", "meta_value": "gold"})[1] == ids(rows, "old")
    assert run({"meta_key": "team", "meta_value": "nobody"})[1] == set()
    assert run({"meta_key": "absent"})[1] == set()


def test_metadata_keys_with_odd_characters(rows):
    odd = make_snapshot(ALPHA, metadata={"we ird__key.$[0]": "x y", "a'b": "1"})
    assert run({"meta_key": "we ird__key.$[0]", "meta_value": "x y"})[1] == {odd.pk}
    assert run({"meta_key": "a'b"})[1] == {odd.pk}


def test_metadata_key_with_a_double_quote(rows):
    odd = make_snapshot(ALPHA, metadata={'say "hi"': "1"})
    filterset, found = run({"meta_key": 'say "hi"'})
    if connection.vendor == "sqlite":
        assert "meta_key" in filterset.form.errors
        assert odd.pk in found  # left out, so the list is not emptied
    else:
        assert found == {odd.pk}


def test_metadata_value_needs_a_key(rows):
    filterset, found = run({"meta_value": "db"})
    assert "meta_value" in filterset.form.errors
    assert found == ids(rows, "old", "new", "err", "errdel")


def test_stuck_only(rows):
    assert run({"stuck": "on"})[1] == ids(rows, "errdel")
    assert run({"stuck": ""})[1] == ids(rows, "old", "new", "err", "errdel")


def test_failed_only(rows):
    assert run({"failed": "on"})[1] == ids(rows, "err", "errdel")


def test_everything_together(rows):
    data = {
        "q": "e",
        "status": ["error", "error_deleting", "creating"],
        "size_min": "5",
        "size_max": "100",
        "failed": "on",
        "created_after": (timezone.localdate() - timedelta(days=30)).isoformat(),
    }
    assert run(data)[1] == ids(rows, "err", "errdel")
    assert run({**data, "stuck": "on"})[1] == ids(rows, "errdel")
    assert run({**data, "project": ALPHA})[1] == ids(rows, "err")


def test_filters_never_reach_outside_the_scope(rows):
    assert run({"failed": "on"}, member())[1] == ids(rows, "err")


def test_filtering_adds_no_distinct(rows):
    filterset, _ = run({"status": ["available", "error"], "q": "x", "meta_key": "team"})
    assert not filterset.qs.query.distinct


def test_advanced_panel_opens_when_used(rows):
    assert not run({"q": "x"})[0].advanced_active
    assert run({"size_min": "3"})[0].advanced_active
    assert run({"size_min": "x"})[0].advanced_active
    assert isinstance(rows["old"].created_at, datetime)
