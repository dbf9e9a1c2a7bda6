"""Edit, metadata and delete pages for every role, against the simulator."""

from __future__ import annotations

import re

import pytest

from snapshots.models import Snapshot
from snapshots.tests.actions_helpers import (
    actor,
    cinder_calls,
    create_volume_from,
    cut_off,
    form_key,
    make_snapshot,
    mirror_volumes,
    mirrored_fixture,  # noqa: F401 (the fixture)
    opened_form,
    pick,
    signed_in,
    sim_snapshot,
)


@pytest.mark.parametrize("page", ["edit", "metadata", "delete"])
def test_pages_for_every_role(mirrored, page, django_assert_max_num_queries):
    alpha = pick(mirrored.project_id("alpha"), "available")
    gamma = pick(mirrored.project_id("gamma"), "available")
    demo, auditor, admin = (signed_in(mirrored, u) for u in ("demo", "auditor", "admin"))
    with django_assert_max_num_queries(10):
        assert demo.get(f"/snapshots/{alpha.id}/{page}/").status_code == 200
    assert demo.get(f"/snapshots/{gamma.id}/{page}/").status_code == 404
    assert demo.get(f"/snapshots/no-such-id/{page}/").status_code == 404
    assert auditor.get(f"/snapshots/{alpha.id}/{page}/").status_code == 403
    assert auditor.post(f"/snapshots/{alpha.id}/{page}/", {}).status_code == 403
    assert admin.get(f"/snapshots/{gamma.id}/{page}/").status_code == 200


def test_edit_renames_in_cinder(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/edit/")
    data = {"idempotency_key": key, "name": "  new name ", "description": "fine"}
    response = client.post(f"/snapshots/{snap.id}/edit/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/snapshots/{snap.id}/"
    assert (sim_snapshot(mirrored, snap.id)["name"], Snapshot.objects.get(pk=snap.id).name) == (
        "new name",
        "new name",
    )


def test_edit_errors_show_next_to_the_field_and_nothing_is_sent(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/edit/")
    mirrored.reset_stats()
    response = client.post(
        f"/snapshots/{snap.id}/edit/",
        {"idempotency_key": key, "name": "ok", "description": "tab\there"},
    )
    assert response.status_code == 400
    assert 'id="id_description_error"' in response.content.decode()
    assert cinder_calls(mirrored) == 0


def test_edit_during_an_outage_keeps_the_input(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/edit/")
    cut_off(client)
    response = client.post(
        f"/snapshots/{snap.id}/edit/",
        {"idempotency_key": key, "name": "typed-in", "description": ""},
    )
    assert response.status_code == 503
    assert 'value="typed-in"' in response.content.decode()
    assert "Nothing was changed" in response.content.decode()
    assert Snapshot.objects.get(pk=snap.id).name == snap.name


def _metadata_post(client, snap, rows, key):
    data = {
        "idempotency_key": key,
        "meta-TOTAL_FORMS": str(len(rows)),
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"meta-{i}-{name}"] = value
    return client.post(f"/snapshots/{snap.id}/metadata/", data)


def test_metadata_editor_adds_changes_and_removes(mirrored):
    snap = make_snapshot(mirrored, "alpha", "available", metadata={"keep": "1", "drop": "2"})
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/metadata/")
    rows = [
        {"key": "keep", "value": "changed", "original_key": "keep", "original_value": "1"},
        {
            "key": "drop",
            "value": "2",
            "original_key": "drop",
            "original_value": "2",
            "remove": "on",
        },
        {"key": "added key", "value": "3"},
    ]
    response = _metadata_post(client, snap, rows, key)
    assert response.status_code == 302, response.content[:2000]
    expected = {"keep": "changed", "added key": "3"}
    assert sim_snapshot(mirrored, snap.id)["metadata"] == expected
    assert Snapshot.objects.get(pk=snap.id).metadata == expected


def test_metadata_slash_key_is_explained_before_any_call(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/metadata/")
    mirrored.reset_stats()
    response = _metadata_post(client, snap, [{"key": "a/b", "value": "c"}], key)
    assert response.status_code == 400
    assert "a slash is accepted only on create" in response.content.decode()
    assert cinder_calls(mirrored) == 0


def test_delete_confirmation_then_delete(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    client = signed_in(mirrored, "demo")
    page = client.get(f"/snapshots/{snap.id}/delete/")
    html = page.content.decode()
    assert 'id="confirm-delete"' in html and snap.name in html
    assert 'id="children-unknown"' not in html and 'id="children-warning"' not in html
    response = client.post(f"/snapshots/{snap.id}/delete/", {"idempotency_key": form_key(page)})
    assert response.status_code == 302
    assert Snapshot.objects.get(pk=snap.id).status == "deleting"
    assert sim_snapshot(mirrored, snap.id)["status"] == "deleting"


def test_delete_is_not_offered_for_a_creating_snapshot(mirrored):
    snap = pick(mirrored.project_id("alpha"), "creating")
    client = signed_in(mirrored, "demo")
    page = client.get(f"/snapshots/{snap.id}/delete/")
    html = page.content.decode()
    assert 'id="confirm-delete"' not in html
    assert "Cinder deletes only available or error snapshots" in html
    mirrored.reset_stats()
    response = client.post(f"/snapshots/{snap.id}/delete/", {"idempotency_key": form_key(page)})
    assert response.status_code == 409
    assert cinder_calls(mirrored) == 0


def test_delete_warns_about_volumes_made_from_the_snapshot(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    create_volume_from(mirrored, snap.id, name="child-volume")
    mirror_volumes()  # as the next sync does
    client = signed_in(mirrored, "demo")
    mirrored.reset_stats()
    html = client.get(f"/snapshots/{snap.id}/delete/").content.decode()
    assert 'id="children-warning"' in html and "child-volume" in html
    assert cinder_calls(mirrored) == 0


def test_delete_confirmation_needs_no_cloud(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    create_volume_from(mirrored, snap.id, name="child-volume")
    mirror_volumes()
    client = signed_in(mirrored, "demo")
    mirrored.faults(cinder_down=True)
    page = client.get(f"/snapshots/{snap.id}/delete/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="children-warning"' in html and "child-volume" in html


def test_cinder_refusal_is_shown_and_nothing_changes(mirrored):
    """The mirror still says available; Cinder moved it to creating meanwhile."""
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/delete/")
    actor(mirrored, "admin", "alpha").gateway.reset_snapshot_status(snap.id, "creating")
    response = client.post(f"/snapshots/{snap.id}/delete/", {"idempotency_key": key})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Cinder rejected the request" in html and "Nothing was changed" in html
    assert Snapshot.objects.get(pk=snap.id).status == "available"


def test_bulk_delete_confirms_then_reports_per_snapshot(mirrored):
    alpha = mirrored.project_id("alpha")
    good = list(Snapshot.objects.live().filter(project_id=alpha, status="available")[:2])
    creating = pick(alpha, "creating")
    gamma = pick(mirrored.project_id("gamma"), "available")
    client = signed_in(mirrored, "demo")
    ids = [s.id for s in good] + [creating.id, gamma.id]
    page = client.post("/snapshots/bulk/delete/", {"ids": ids})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="not-deletable"' in html and creating.name in html
    assert gamma.name not in html  # another project's: not even named
    hidden = re.findall(r'name="ids" value="([^"]+)"', html)
    assert sorted(hidden) == sorted(s.id for s in good)
    response = client.post(
        "/snapshots/bulk/delete/",
        {"ids": hidden, "confirm": "yes", "idempotency_key": form_key(page)},
        follow=True,
    )
    assert "2 of 2 deleted." in response.content.decode()
    assert {sim_snapshot(mirrored, s.id)["status"] for s in good} == {"deleting"}


def test_bulk_delete_for_a_reader_is_403(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    client = signed_in(mirrored, "auditor")
    assert client.post("/snapshots/bulk/delete/", {"ids": [snap.id]}).status_code == 403


def test_names_are_user_data_and_render_as_text(mirrored):
    evil = '<script>alert("x")</script>'
    snap = make_snapshot(mirrored, "alpha", "error_deleting", name=evil, metadata={"k": evil})
    pages = [
        (signed_in(mirrored, "demo"), f"/snapshots/{snap.id}/metadata/"),
        (signed_in(mirrored, "demo"), f"/snapshots/{snap.id}/delete/"),
        (signed_in(mirrored, "admin"), f"/snapshots/{snap.id}/force-delete/"),
        (signed_in(mirrored, "admin"), f"/snapshots/{snap.id}/reset-status/"),
        (signed_in(mirrored, "admin"), f"/snapshots/bulk/reset-status/?ids={snap.id}"),
    ]
    for client, url in pages:
        html = client.get(url).content.decode()
        assert evil not in html, url
        assert "&lt;script&gt;" in html, url
