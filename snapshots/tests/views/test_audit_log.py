"""The audit log page: who sees what, every filter, the exports, links, escaping, htmx, queries."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from snapshots.choices import Outcome
from snapshots.models import AuditEvent
from snapshots.tests.factories_audit import event, gone, make_scope, make_snapshot

pytestmark = pytest.mark.django_db

URL = reverse("snapshots:audit")


@pytest.fixture
def events(cloud):
    """Events in three projects, by three people, with every outcome, one about a deleted
    snapshot and one with a hostile name."""
    alpha, beta, gamma = (cloud.project_id(p) for p in ("alpha", "beta", "gamma"))
    now = timezone.now()
    kept = make_snapshot(alpha, name="kept-snap")
    deleted = make_snapshot(alpha, name="deleted-snap")
    gone(deleted, now)
    beta_snap = make_snapshot(beta, name="beta-snap")
    gamma_snap = make_snapshot(gamma, name="<script>alert(1)</script>")
    alice = make_scope("member", alpha, username="alice")
    bob = make_scope("member", beta, username="bob")
    carol = make_scope("admin", gamma, username="carol")
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "kept": kept,
        "deleted": deleted,
        "rows": {
            "create": event(alice, target=kept, created_at=now - timedelta(days=3)),
            "delete": event(
                alice, action="snapshot_delete", target=deleted, created_at=now - timedelta(days=2)
            ),
            "refused": event(
                alice,
                action="snapshot_edit",
                target=kept,
                outcome=Outcome.REFUSED,
                message='=HYPERLINK("http://evil")',
                created_at=now - timedelta(days=1),
            ),
            "beta": event(bob, target=beta_snap, outcome=Outcome.FAILED),
            "gamma": event(
                carol,
                action="snapshot_reset_status",
                target=gamma_snap,
                outcome=Outcome.DENIED,
                message="<b>bold</b>",
            ),
        },
    }


def ids(response) -> set[int]:
    return {row.record.pk for row in response.context["table"].paginated_rows}


def test_member_sees_only_their_projects_events(login, events):
    client = login("demo", project="alpha")
    response = client.get(URL)
    assert response.status_code == 200
    rows = events["rows"]
    shown = ids(response)
    assert {rows["create"].pk, rows["delete"].pk, rows["refused"].pk} <= shown
    assert rows["beta"].pk not in shown
    assert rows["gamma"].pk not in shown
    assert all(AuditEvent.objects.get(pk=pk).project_id == events["alpha"] for pk in shown), (
        "a member sees another project's events"
    )


def test_member_of_another_project_sees_that_project_only(login, events):
    client = login("demo", project="beta")
    shown = ids(client.get(URL))
    assert events["rows"]["beta"].pk in shown
    assert events["rows"]["create"].pk not in shown


def test_auditor_sees_every_project_they_read(login, events):
    client = login("auditor")
    shown = ids(client.get(URL))
    assert {e.pk for e in events["rows"].values()} <= shown


def test_admin_sees_everything_including_projectless_events(login, events):
    system = event(None, action="history_prune")
    client = login("admin")
    shown = ids(client.get(URL))
    assert {e.pk for e in events["rows"].values()} | {system.pk} <= shown


def test_auditor_limited_to_projects_does_not_see_projectless_events(login, events):
    system = event(None, action="history_prune")
    client = login("auditor")
    assert system.pk not in ids(client.get(URL))


def test_newest_first(login, events):
    client = login("admin")
    rows = [row.record for row in client.get(URL).context["table"].paginated_rows]
    times = [r.created_at for r in rows]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ({"user": "ALI"}, {"create", "delete", "refused"}, {"beta", "gamma"}),
        ({"action": "snapshot_delete"}, {"delete"}, {"create", "refused", "beta", "gamma"}),
        ({"outcome": "refused"}, {"refused"}, {"create", "delete", "beta", "gamma"}),
        ({"outcome": "denied"}, {"gamma"}, {"create", "refused"}),
        ({"snapshot": "kept-snap"}, {"create", "refused"}, {"delete", "beta"}),
        ({"snapshot": "DELETED"}, {"delete"}, {"create", "refused"}),
    ],
)
def test_filters(login, events, query, expected, absent):
    client = login("admin")
    shown = ids(client.get(URL, query))
    rows = events["rows"]
    assert {rows[k].pk for k in expected} <= shown
    assert not {rows[k].pk for k in absent} & shown


def test_filter_by_snapshot_id(login, events):
    client = login("admin")
    shown = ids(client.get(URL, {"snapshot": events["kept"].pk}))
    assert shown == {events["rows"]["create"].pk, events["rows"]["refused"].pk}


def test_filter_by_project(login, events):
    client = login("admin")
    shown = ids(client.get(URL, {"project": events["beta"]}))
    assert shown == {events["rows"]["beta"].pk}


def test_member_cannot_widen_with_the_project_filter(login, events):
    client = login("demo", project="alpha")
    response = client.get(URL, {"project": events["gamma"]})
    assert response.status_code == 200
    assert ids(response) == set()
    assert response.context["filter"].form.errors  # not one of their choices


def test_filter_by_time_range(login, events):
    client = login("admin")
    now = timezone.localtime()
    since = (now - timedelta(days=2, hours=12)).strftime("%Y-%m-%dT%H:%M")
    until = (now - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M")
    shown = ids(client.get(URL, {"since": since, "until": until}))
    assert shown == {events["rows"]["delete"].pk, events["rows"]["refused"].pk}


def test_invalid_filter_lists_nothing_and_says_why(login, events):
    client = login("admin")
    response = client.get(URL, {"since": "yesterday-ish"})
    assert response.status_code == 200
    assert ids(response) == set()
    assert b'id="filter-errors"' in response.content


def test_links_to_snapshots_including_deleted_ones(login, events):
    client = login("admin")
    content = client.get(URL).content.decode()
    assert reverse("snapshots:detail", args=[events["deleted"].pk]) in content
    assert reverse("snapshots:detail", args=[events["kept"].pk]) in content
    detail = client.get(reverse("snapshots:detail", args=[events["deleted"].pk]))
    assert detail.status_code == 200


def test_user_data_is_escaped(login, events):
    client = login("admin")
    content = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<b>bold</b>" not in content
    assert "&lt;b&gt;bold&lt;/b&gt;" in content


def test_csv_export_follows_the_filter_and_neutralises_formulas(login, events):
    client = login("admin")
    response = client.get(URL, {"user": "alice", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert len(rows) == 3
    assert {r["Event"] for r in rows} == {
        str(events["rows"][k].pk) for k in ("create", "delete", "refused")
    }
    refused = next(r for r in rows if r["Event"] == str(events["rows"]["refused"].pk))
    assert refused["Message"] == '\'=HYPERLINK("http://evil")'
    assert refused["Snapshot"] == events["kept"].pk
    assert refused["Hash"] == events["rows"]["refused"].hash


def test_json_export_keeps_values_as_they_are(login, events):
    client = login("admin")
    response = client.get(URL, {"outcome": "refused", "export": "json"})
    data = json.loads(response.getvalue())
    assert len(data) == 1
    assert data[0]["message"] == '=HYPERLINK("http://evil")'  # JSON: keyed by column name
    assert data[0]["outcome"] == "refused"


def test_xlsx_export(login, events):
    client = login("admin")
    response = client.get(URL, {"project": events["gamma"], "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    header = [c.value for c in sheet[1]]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 1
    assert rows[0][header.index("Snapshot name")] == "<script>alert(1)</script>"
    assert rows[0][header.index("Action")] == "snapshot_reset_status"


def test_member_export_contains_only_their_project(login, events):
    client = login("demo", project="alpha")
    response = client.get(URL, {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert rows
    assert {r["Project ID"] for r in rows} == {events["alpha"]}


def test_other_export_formats_are_a_bad_request(login, events):
    client = login("admin")
    response = client.get(URL, {"export": "yaml"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_no_post(login, events, user):
    client = login(user)
    assert client.post(URL, {"action": "x"}).status_code == 405


def test_anonymous_is_sent_to_sign_in(client, events):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_htmx_gets_the_results_only(login, events):
    client = login("admin")
    response = client.get(URL, {"sort": "action"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert 'id="audit-results"' in content
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "sort", ["created_at", "-created_at", "actor_name", "project", "action", "target", "outcome"]
)
def test_every_orderable_column_sorts(login, events, sort):
    client = login("admin")
    response = client.get(URL, {"sort": sort})
    assert response.status_code == 200
    assert len(ids(response)) >= 5


def test_per_page_is_capped(login, events):
    client = login("admin")
    for i in range(3):
        event(make_scope("admin", events["alpha"]), action=f"bulk_{i}")
    response = client.get(URL, {"per_page": "1000000"})
    assert response.context["table"].paginator.per_page == 100
    # One set of page sizes for every list: a size in between goes up to the next allowed one.
    assert client.get(URL, {"per_page": "2"}).context["table"].paginator.per_page == 25
    assert client.get(URL, {"per_page": "50"}).context["table"].paginator.per_page == 50


def test_query_count_does_not_grow_with_rows(login, events, django_assert_max_num_queries):
    client = login("admin")
    scope = make_scope("admin", events["alpha"])
    for i in range(40):
        event(scope, action="snapshot_edit", target=events["kept"], message=f"m{i}")
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"per_page": "50"})
    assert len(ids(response)) == 46


@pytest.mark.parametrize(("page", "expected"), [("abc", 1), ("999", 2), ("-1", 1), ("²", 1)])
def test_out_of_range_pages_fall_back(login, events, page, expected):
    for i in range(25):
        event(make_scope("admin", events["alpha"]), action=f"bulk_{i}")
    client = login("admin")
    response = client.get(URL, {"per_page": "25", "page": page})
    assert response.status_code == 200
    assert response.context["table"].page.number == expected
