"""Live rows: the page sends ids+versions of its transitional rows; only changes come back."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud.dto import SnapshotData
from snapshots.models import Snapshot
from snapshots.services import mirror
from snapshots.tests.factories import make_snapshot
from snapshots.tests.views.browse_helpers import projects_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def observe(snapshot: Snapshot, **changes) -> Snapshot:
    """Cinder reports `snapshot` with `changes`: the mirror records it as the workers would."""
    # every field Cinder reports (the receipt is about a change, not the snapshot)
    fields = {
        f.name: getattr(snapshot, f.name) for f in dataclasses.fields(SnapshotData) if f.compare
    }
    fields.update(changes)
    row, _ = mirror.apply(SnapshotData(**fields), source=ChangeSource.TRACK)
    return row


def poll(client, *rows: Snapshot, versions: dict | None = None):
    versions = versions or {}
    return client.get(
        "/snapshots/live/", {"row": [f"{r.pk}:{versions.get(r.pk, r.version)}" for r in rows]}
    )


@pytest.fixture
def creating(projects):
    return [
        make_snapshot(projects["alpha"], status="creating", progress=10, name=f"c{i}")
        for i in range(3)
    ]


def test_nothing_changed_answers_no_content(login, creating):
    response = poll(login("demo"), *creating)
    assert response.status_code == 204
    assert response.content == b""


def test_only_changed_rows_come_back(login, creating):
    client = login("demo")
    first, second, third = creating
    observe(second, status="available", progress=100)
    response = poll(client, first, second, third)
    assert response.status_code == 200  # first and third are still creating
    html = response.content.decode()
    assert re.findall(r'<tr id="row-([^"]+)"', html) == [second.pk]
    row = re.search(r"<tr [^>]*>", html).group(0)
    assert 'hx-swap-oob="true"' in row and "row-updated" in row
    assert "Available" in html
    assert 'name="row"' not in html  # settled: no longer watched
    assert "c1 is now Available" in html  # for screen readers


def test_progress_change_keeps_the_row_watched(login, creating):
    client = login("demo")
    row = observe(creating[0], progress=55)
    response = poll(client, creating[0])
    assert response.status_code == 200
    html = response.content.decode()
    assert f'name="row" value="{row.pk}:{row.version}"' in html
    assert 'aria-valuenow="55"' in html


def test_stops_polling_when_no_transitional_row_is_left(login, creating):
    client = login("demo")
    for snap in creating:
        observe(snap, status="available", progress=100)
    response = poll(client, *creating)
    assert response.status_code == 286
    assert len(re.findall(r"<tr id=", response.content.decode())) == 3
    # the next poll (rows already settled) stops at once, with nothing to swap
    settled = Snapshot.objects.filter(pk__in=[s.pk for s in creating])
    response = poll(client, *settled)
    assert response.status_code == 286


def test_deleted_rows_leave_the_table(login, creating):
    client = login("demo")
    mirror.mark_gone(creating[0].pk, source=ChangeSource.SYNC)
    response = poll(client, *creating)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<tr id="row-{creating[0].pk}" hx-swap-oob="delete"></tr>' in html
    assert "1 snapshot deleted" in html


def test_another_projects_rows_are_never_sent(login, projects):
    theirs = make_snapshot(projects["gamma"], status="creating", name="secret-name")
    observe(theirs, status="available")
    response = poll(login("demo"), theirs, versions={theirs.pk: 1})
    html = response.content.decode()
    assert "secret-name" not in html
    assert 'hx-swap-oob="delete"' in html  # the page drops what it may not see
    assert response.status_code == 286


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_every_role_may_poll(login, creating, user):
    observe(creating[0], status="available")
    response = poll(login(user, project="alpha"), *creating)
    assert response.status_code == 200
    assert creating[0].pk in response.content.decode()


def test_malformed_input_is_ignored(login, creating):
    client = login("demo")
    response = client.get("/snapshots/live/", {"row": ["nonsense", ":", "x:y", "a" * 200 + ":1"]})
    assert response.status_code == 286
    response = client.get("/snapshots/live/")
    assert response.status_code == 286


def test_one_poll_costs_a_few_queries_whatever_the_rows(
    login, projects, django_assert_max_num_queries, cloud
):
    rows = [make_snapshot(projects["alpha"], status="creating", history=False) for _ in range(60)]
    client = login("admin")
    for snap in rows[::2]:
        Snapshot.objects.filter(pk=snap.pk).update(version=snap.version + 1, status="available")
    cloud.reset_stats()
    with django_assert_max_num_queries(8):
        response = poll(client, *rows)
    assert response.status_code == 200
    assert len(re.findall(r'<tr id="row-', response.content.decode())) == 30
    with django_assert_max_num_queries(8):
        response = poll(client, rows[1])
    assert response.status_code == 204
    assert cloud.stats()["total"] == 0  # the dashboard's database only, never Cinder


def test_get_only(login, creating):
    assert login("demo").post("/snapshots/live/", {"row": "x:1"}).status_code == 405


def test_list_page_polls_only_with_transitional_rows(login, projects, settings):
    settings.LIVE_POLL_SECONDS = 7
    client = login("demo")
    make_snapshot(projects["alpha"], status="available")
    html = client.get("/snapshots/").content.decode()
    assert 'id="live-poller"' not in html
    make_snapshot(projects["alpha"], status="creating")
    html = client.get("/snapshots/").content.decode()
    assert 'id="live-poller"' in html
    assert 'hx-trigger="live-changed, every 7s"' in html  # paused while hidden by dashboard.js
    assert 'hx-include="#snapshot-table [data-live]"' in html


# -- the detail page -----------------------------------------------------------------------------
def test_detail_live_follows_one_snapshot(login, creating):
    client = login("demo")
    snap = creating[0]
    url = f"/snapshots/{snap.pk}/live/"
    assert client.get(url, {"row": f"{snap.pk}:{snap.version}"}).status_code == 204
    row = observe(snap, progress=60, updated_at=timezone.now())
    response = client.get(url, {"row": f"{snap.pk}:{snap.version}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="snapshot-live" hx-swap-oob="true"' in html
    assert f'value="{snap.pk}:{row.version}"' in html
    observe(snap, status="available", progress=100)
    response = client.get(url, {"row": f"{snap.pk}:{row.version}"})
    assert response.status_code == 286
    html = response.content.decode()
    assert "Available" in html and "data-live" not in html
    assert "creating" in html and "available" in html  # the timeline came along


def test_detail_live_is_scoped(login, projects):
    theirs = make_snapshot(projects["gamma"], status="creating")
    response = login("demo").get(f"/snapshots/{theirs.pk}/live/", {"row": f"{theirs.pk}:1"})
    assert response.status_code == 404


def test_detail_live_marks_deletion(login, creating):
    client = login("demo")
    snap = creating[1]
    mirror.mark_gone(snap.pk, source=ChangeSource.SYNC, now=timezone.now() + timedelta(seconds=1))
    response = client.get(f"/snapshots/{snap.pk}/live/", {"row": f"{snap.pk}:{snap.version}"})
    assert response.status_code == 286
    assert 'id="deleted-badge"' in response.content.decode()
