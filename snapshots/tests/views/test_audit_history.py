"""The global status history: durations, scoping, every filter, export, sorting, queries."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from snapshots.models import StatusChange
from snapshots.selectors.audit import visible_changes
from snapshots.tests.factories_audit import gone, make_scope, make_snapshot, move

pytestmark = pytest.mark.django_db

URL = reverse("snapshots:history")


@pytest.fixture
def history(cloud):
    alpha, beta, gamma = (cloud.project_id(p) for p in ("alpha", "beta", "gamma"))
    t0 = timezone.now() - timedelta(days=2)
    a = make_snapshot(alpha, status="creating", at=t0, name="alpha-one")
    move(a, "available", t0 + timedelta(seconds=42))
    move(a, "deleting", t0 + timedelta(hours=1), source="action")
    gone(a, t0 + timedelta(hours=1, seconds=5))
    b = make_snapshot(beta, status="creating", at=t0 + timedelta(minutes=1), name="beta-one")
    move(b, "error", t0 + timedelta(minutes=3))
    c = make_snapshot(gamma, status="available", at=t0 + timedelta(days=1), name="<i>gamma</i>")
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "a": a, "b": b, "c": c, "t0": t0}


def rows(response):
    return [row.record for row in response.context["table"].paginated_rows]


def test_durations_are_the_time_until_the_same_snapshots_next_change(history):
    changes = {(c.snapshot_id, c.to_status): c for c in visible_changes(make_scope("admin"))}
    a, b, c = history["a"].pk, history["b"].pk, history["c"].pk
    assert changes[(a, "creating")].duration == timedelta(seconds=42)
    assert changes[(a, "available")].duration == timedelta(hours=1) - timedelta(seconds=42)
    assert changes[(a, "deleting")].duration == timedelta(seconds=5)
    assert changes[(a, "deleted")].duration is None
    assert changes[(b, "creating")].duration == timedelta(minutes=2)
    assert changes[(b, "error")].duration is None
    assert changes[(c, "available")].duration is None


def test_filtering_does_not_change_what_the_next_change_is(login, history):
    client = login("admin")
    response = client.get(URL, {"status": "creating", "project": history["alpha"]})
    (change,) = rows(response)
    assert change.duration == timedelta(seconds=42)
    assert "42 s" in response.content.decode()


def test_member_sees_only_their_project(login, history):
    client = login("demo", project="alpha")
    response = client.get(URL)
    assert response.status_code == 200
    assert {c.project_id for c in rows(response)} == {history["alpha"]}
    assert len(rows(response)) == 4


def test_auditor_sees_all_projects_they_read(login, history):
    client = login("auditor")
    assert {c.project_id for c in rows(client.get(URL))} == {
        history["alpha"],
        history["beta"],
        history["gamma"],
    }


def test_admin_sees_all(login, history):
    client = login("admin")
    assert len(rows(client.get(URL))) == StatusChange.objects.count() == 7


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "error"}, {("b", "error")}),
        ({"source": "action"}, {("a", "deleting")}),
        ({"snapshot": "beta-one"}, {("b", "creating"), ("b", "error")}),
        ({"status": "deleted"}, {("a", "deleted")}),
    ],
)
def test_filters(login, history, query, expected):
    client = login("admin")
    names = {history[k].pk: k for k in ("a", "b", "c")}
    shown = {(names[c.snapshot_id], c.to_status) for c in rows(client.get(URL, query))}
    assert shown == expected


def test_filter_by_project_and_time(login, history):
    client = login("admin")
    since = timezone.localtime(history["t0"] + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M")
    response = client.get(URL, {"since": since})
    assert [(c.snapshot_id, c.to_status) for c in rows(response)] == [
        (history["c"].pk, "available")
    ]
    response = client.get(URL, {"project": history["beta"]})
    assert {c.snapshot_id for c in rows(response)} == {history["b"].pk}
    until = timezone.localtime(history["t0"] + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.get(URL, {"until": until})
    assert {(c.snapshot_id, c.to_status) for c in rows(response)} == {
        (history["a"].pk, "creating"),
        (history["a"].pk, "available"),
        (history["b"].pk, "creating"),
    }


def test_csv_export_has_seconds_and_follows_the_filter(login, history):
    client = login("admin")
    response = client.get(URL, {"snapshot": history["a"].pk, "export": "csv"})
    assert response.status_code == 200
    data = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    by_status = {r["To"]: r for r in data}
    assert set(by_status) == {"creating", "available", "deleting", "deleted"}
    assert float(by_status["creating"]["Seconds"]) == 42.0
    assert by_status["deleted"]["Seconds"] == ""
    assert by_status["deleting"]["Source"] == "action"
    assert by_status["creating"]["Snapshot"] == history["a"].pk


def test_xlsx_and_json_exports(login, history):
    client = login("demo", project="beta")
    assert client.get(URL, {"export": "xlsx"})["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    data = json.loads(client.get(URL, {"export": "json"}).getvalue())
    assert {r["project_id"] for r in data} == {history["beta"]}  # JSON: keyed by column name


def test_names_are_escaped_and_link_to_the_snapshot(login, history):
    client = login("admin")
    content = client.get(URL).content.decode()
    assert "<i>gamma</i>" not in content
    assert "&lt;i&gt;gamma&lt;/i&gt;" in content
    assert reverse("snapshots:detail", args=[history["a"].pk]) in content  # deleted one


@pytest.mark.parametrize(
    "sort",
    ["observed_at", "snapshot", "project", "from_status", "to_status", "-duration", "source"],
)
def test_every_orderable_column_sorts(login, history, sort):
    client = login("admin")
    response = client.get(URL, {"sort": sort})
    assert response.status_code == 200
    assert len(rows(response)) == 7


def test_sorting_by_duration_orders_rows(login, history):
    client = login("admin")
    durations = [c.duration for c in rows(client.get(URL, {"sort": "-duration"}))]
    known = [d for d in durations if d is not None]
    assert known == sorted(known, reverse=True)


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_no_post(login, history, user):
    client = login(user)
    assert client.post(URL).status_code == 405


def test_query_count_does_not_grow_with_rows(login, history, django_assert_max_num_queries):
    for i in range(30):
        snap = make_snapshot(history["alpha"], status="creating")
        move(snap, "available", timezone.now() + timedelta(seconds=i))
    client = login("admin")
    with django_assert_max_num_queries(10):
        response = client.get(URL, {"per_page": "100"})
    assert len(rows(response)) == 67
