"""The audit events on a snapshot's detail page (templates/audit/partials/snapshot_audit.html)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from snapshots.choices import Outcome
from snapshots.selectors.audit import snapshot_audit
from snapshots.tests.factories_audit import (
    ALPHA,
    BETA,
    event,
    gone,
    make_scope,
    make_snapshot,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot_with_events(cloud):
    alpha = cloud.project_id("alpha")
    snap = make_snapshot(alpha, name="audited")
    other = make_snapshot(alpha, name="other")
    member = make_scope("member", alpha, username="alice")
    mine = [
        event(member, target=snap, action="snapshot_create"),
        event(
            member,
            target=snap,
            action="snapshot_edit",
            outcome=Outcome.REFUSED,
            message="<img src=x onerror=alert(1)>",
        ),
    ]
    unrelated = event(member, target=other, action="snapshot_delete")
    return {"snapshot": snap, "mine": mine, "unrelated": unrelated}


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_detail_page_lists_this_snapshots_events(login, snapshot_with_events, user):
    client = login(user, project="alpha" if user == "demo" else None)
    snap = snapshot_with_events["snapshot"]
    response = client.get(reverse("snapshots:detail", args=[snap.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    section = content[content.index('id="snapshot-audit"') :]
    for e in snapshot_with_events["mine"]:
        assert f'data-event="{e.pk}"' in section
    assert f'data-event="{snapshot_with_events["unrelated"].pk}"' not in section
    assert "<img src=x onerror=alert(1)>" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in section
    assert f"{reverse('snapshots:audit')}?snapshot={snap.pk}" in section


def test_deleted_snapshot_still_shows_its_events(login, snapshot_with_events):
    snap = snapshot_with_events["snapshot"]
    gone(snap, snap.created_at)
    client = login("auditor")
    content = client.get(reverse("snapshots:detail", args=[snap.pk])).content.decode()
    assert f'data-event="{snapshot_with_events["mine"][0].pk}"' in content


def _render(scope, snapshot) -> str:
    """The partial as the detail view fills it: the selector decides, the template shows."""
    context = {"scope": scope, "snapshot": snapshot, "audit": snapshot_audit(scope, snapshot)}
    return render_to_string("audit/partials/snapshot_audit.html", context)


def test_partial_hides_events_from_a_scope_that_may_not_see_them():
    snap = make_snapshot(ALPHA)
    event(make_scope("member", ALPHA), target=snap)
    for scope in (
        make_scope("member", BETA),
        make_scope("reader", BETA, readable=frozenset({BETA})),
        None,
    ):
        html = _render(scope, snap)
        assert "data-event" not in html
        assert "does not show" in html


def test_partial_shows_events_to_those_who_may():
    snap = make_snapshot(ALPHA)
    e = event(make_scope("member", ALPHA), target=snap)
    for scope in (
        make_scope("member", ALPHA),
        make_scope("reader", ALPHA, readable=frozenset({ALPHA})),
        make_scope("admin", BETA),
    ):
        assert f'data-event="{e.pk}"' in _render(scope, snap)


def test_partial_without_events_says_so():
    snap = make_snapshot(ALPHA)
    assert "No audit events name this snapshot." in _render(make_scope("admin"), snap)


def test_partial_costs_one_query(django_assert_num_queries):
    snap = make_snapshot(ALPHA)
    for _ in range(5):
        event(make_scope("member", ALPHA), target=snap)
    with django_assert_num_queries(1):
        html = _render(make_scope("admin"), snap)
    assert html.count("data-event=") == 5
