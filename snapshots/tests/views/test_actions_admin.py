"""The admin repair pages for every role, against the simulator."""

from __future__ import annotations

import re

import pytest

from snapshots.models import AuditEvent, Snapshot
from snapshots.tests.actions_helpers import (
    cinder_calls,
    form_key,
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
    pick,
    signed_in,
    sim_snapshot,
)

PAGES = ["force-delete", "reset-status", "set-status"]


@pytest.mark.parametrize("page", PAGES)
def test_member_and_reader_get_403_and_cinder_hears_nothing(mirrored, page):
    snap = pick(mirrored.project_id("alpha"), "deleting")
    for user in ("demo", "auditor"):
        client = signed_in(mirrored, user)
        mirrored.reset_stats()
        assert client.get(f"/snapshots/{snap.id}/{page}/").status_code == 403
        response = client.post(
            f"/snapshots/{snap.id}/{page}/",
            {"idempotency_key": "k" * 20, "status": "error_deleting", "reason": "x"},
        )
        assert response.status_code == 403
        assert cinder_calls(mirrored) == 0
    assert Snapshot.objects.get(pk=snap.id).status == "deleting"


@pytest.mark.parametrize("page", ["bulk/force-delete", "bulk/reset-status"])
def test_bulk_repairs_are_admin_only(mirrored, page):
    snap = pick(mirrored.project_id("alpha"), "deleting")
    client = signed_in(mirrored, "demo")
    mirrored.reset_stats()
    data = {"ids": [snap.id], "confirm": "yes", "idempotency_key": "k" * 20, "reason": "x"}
    assert client.post(f"/snapshots/{page}/", data).status_code == 403
    assert cinder_calls(mirrored) == 0


@pytest.mark.parametrize("page", PAGES)
def test_admin_pages_render_for_any_project(mirrored, page, django_assert_max_num_queries):
    snap = pick(mirrored.project_id("gamma"), "creating")
    client = signed_in(mirrored, "admin")
    with django_assert_max_num_queries(10):
        assert client.get(f"/snapshots/{snap.id}/{page}/").status_code == 200
    assert client.get(f"/snapshots/missing/{page}/").status_code == 404


def test_force_delete_of_error_deleting(mirrored):
    snap = make_snapshot(mirrored, "beta", "error_deleting", name="broken-one")
    client = signed_in(mirrored, "admin")
    page = client.get(f"/snapshots/{snap.id}/force-delete/")
    assert "broken-one" in page.content.decode()
    response = client.post(
        f"/snapshots/{snap.id}/force-delete/", {"idempotency_key": form_key(page)}, follow=True
    )
    assert "Force deletion of “broken-one” has been scheduled." in response.content.decode()
    assert Snapshot.objects.get(pk=snap.id).status == "deleting"
    mirrored.advance(5)
    assert sim_snapshot(mirrored, snap.id, project="beta") is None


def test_reset_marks_the_current_status_and_needs_a_reason(mirrored):
    snap = pick(mirrored.project_id("alpha"), "creating")
    client = signed_in(mirrored, "admin")
    page = client.get(f"/snapshots/{snap.id}/reset-status/")
    html = page.content.decode()
    assert "Creating (current)" in html
    for status in ("available", "error", "error_deleting", "deleted", "backing-up"):
        assert f'value="{status}"' in html
    mirrored.reset_stats()
    missing = client.post(
        f"/snapshots/{snap.id}/reset-status/",
        {"idempotency_key": form_key(page), "status": "available", "reason": ""},
    )
    assert missing.status_code == 400
    assert 'id="id_reason_error"' in missing.content.decode()
    bogus = client.post(
        f"/snapshots/{snap.id}/reset-status/",
        {"idempotency_key": form_key(page), "status": "frozen", "reason": "x"},
    )
    assert bogus.status_code == 400
    assert cinder_calls(mirrored) == 0
    done = client.post(
        f"/snapshots/{snap.id}/reset-status/?next=/snapshots/stuck/",
        {"idempotency_key": form_key(page), "status": "available", "reason": "stuck for hours"},
    )
    assert (done.status_code, done["Location"]) == (302, "/snapshots/stuck/")
    assert sim_snapshot(mirrored, snap.id)["status"] == "available"
    event = AuditEvent.objects.get(action="reset_snapshot_status")
    assert event.parameters["reason"] == "stuck for hours"


def test_set_status_offers_only_cinders_transitions(mirrored):
    creating = pick(mirrored.project_id("alpha"), "creating")
    available = pick(mirrored.project_id("alpha"), "available")
    client = signed_in(mirrored, "admin")
    page = client.get(f"/snapshots/{creating.id}/set-status/")
    html = page.content.decode()
    assert re.findall(r'name="status" value="([^"]+)"', html) == ["creating", "available", "error"]
    bad = client.post(
        f"/snapshots/{creating.id}/set-status/",
        {"idempotency_key": form_key(page), "status": "available", "progress": "101"},
    )
    assert bad.status_code == 400
    done = client.post(
        f"/snapshots/{creating.id}/set-status/",
        {"idempotency_key": form_key(page), "status": "available", "progress": "100"},
    )
    assert done.status_code == 302
    row = Snapshot.objects.get(pk=creating.id)
    assert (row.status, row.progress) == ("available", 100)
    other = client.get(f"/snapshots/{available.id}/set-status/").content.decode()
    assert 'id="set-status-unavailable"' in other and 'name="status"' not in other


def test_bulk_reset_from_the_stuck_page(mirrored):
    snaps = [make_snapshot(mirrored, p, "error_deleting") for p in ("alpha", "gamma")]
    client = signed_in(mirrored, "admin")
    ids = [s.id for s in snaps]
    page = client.post("/snapshots/bulk/reset-status/", {"ids": ids, "next": "/snapshots/stuck/"})
    assert page.status_code == 200
    response = client.post(
        "/snapshots/bulk/reset-status/",
        {
            "ids": ids,
            "confirm": "yes",
            "idempotency_key": form_key(page),
            "status": "error",
            "reason": "backend cleaned up",
            "next": "/snapshots/stuck/",
        },
        follow=True,
    )
    assert "2 of 2 reset to error." in response.content.decode()
    assert set(Snapshot.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"error"}


def test_bulk_force_delete_partial_failure_is_reported(mirrored):
    snaps = [make_snapshot(mirrored, "alpha", "error_deleting") for _ in range(2)]
    client = signed_in(mirrored, "admin")
    ids = [s.id for s in snaps]
    page = client.post("/snapshots/bulk/force-delete/", {"ids": ids})
    mirrored.faults(cinder_down=True)
    response = client.post(
        "/snapshots/bulk/force-delete/",
        {"ids": ids, "confirm": "yes", "idempotency_key": form_key(page)},
        follow=True,
    )
    html = response.content.decode()
    # A 503 may come after Cinder acted: the first is unknown (being checked), the second
    # was not sent.
    assert "0 of 2 force-deleted; 1 unknown, being checked:" in html
    assert "1 failed:" in html and "not sent" in html
