"""Every snapshot action service through the views, signed in with Keystone,
with Cinder's default policy as the last word: member changes, admin repairs, bulk forms,
refusals by the dashboard before Cinder, and Cinder's own refusals shown readably."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from snapshots.cloud import errors
from snapshots.middleware import scope_from_session
from snapshots.models import AuditEvent
from snapshots.services.snapshot_create import snapshot_create
from snapshots.services.snapshots import Caller
from tests.behaviour.helpers import (
    create_outside,
    create_through_form,
    flash,
    mirror_matches,
    post_form,
    row,
    sign_in,
    sync_all,
)


def _settled(backend, project: str, sid: str):
    """Cinder's view once the snapshot stops moving."""
    return backend.wait_until(
        lambda: (
            (s := backend.outside(project).get_snapshot(sid)).status not in ("creating", "deleting")
            and s
        ),
        what=f"{sid} settled",
    )


def _two_synced(backend, made, project: str, tag: str, names: tuple[str, str], creating: str):
    """Two snapshots made outside on the project's volumes 0 and 1, the one named `creating` reset
    to creating, then a sync: the mirror holds both as they are now."""
    snaps = {
        name: create_outside(backend, made, project, f"{tag}-{name}", volume=i)
        for i, name in enumerate(names)
    }
    backend.outside(project).reset_snapshot_status(snaps[creating].id, "creating")
    sync_all()
    return snaps[names[0]], snaps[names[1]]


def test_member_creates_edits_tags_and_deletes(keystone_mode, made, tag):
    backend = keystone_mode
    client = sign_in(backend, "demo", project="alpha")
    response = create_through_form(
        client,
        backend.volume_ids("alpha")[1],
        f"{tag}-mine",
        description="first",
        metadata={"owner": "ops", "drop": "me"},
    )
    assert response.status_code == 302, response.content[:500]
    sid = response["Location"].split("highlight=")[1]
    made("alpha", sid)
    seen = _settled(backend, "alpha", sid)
    assert (seen.name, seen.description, seen.metadata) == (
        f"{tag}-mine",
        "first",
        {"owner": "ops", "drop": "me"},
    )
    assert seen.project_id == backend.project_id("alpha")
    assert seen.user_id == backend.user_id("demo")
    sync_all()

    response = post_form(
        client, f"/snapshots/{sid}/edit/", {"name": f"{tag}-renamed", "description": "second"}
    )
    assert response.status_code == 302, response.content[:500]
    seen = backend.outside("alpha").get_snapshot(sid)
    assert (seen.name, seen.description) == (f"{tag}-renamed", "second")
    mirror_matches(seen)

    rows = {
        "meta-TOTAL_FORMS": "3",
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "1000",
        "meta-0-key": "owner",
        "meta-0-value": "dev",
        "meta-0-original_key": "owner",
        "meta-0-original_value": "ops",
        "meta-1-key": "drop",
        "meta-1-value": "me",
        "meta-1-original_key": "drop",
        "meta-1-original_value": "me",
        "meta-1-remove": "on",
        "meta-2-key": "env",
        "meta-2-value": "prod",
    }
    response = post_form(client, f"/snapshots/{sid}/metadata/", rows)
    assert response.status_code == 302, response.content[:500]
    seen = backend.outside("alpha").get_snapshot(sid)
    assert seen.metadata == {"owner": "dev", "env": "prod"}
    mirror_matches(seen)

    response = post_form(client, f"/snapshots/{sid}/delete/")
    assert response.status_code == 302, response.content[:500]
    backend.wait_gone("alpha", sid)
    outcomes = dict(
        AuditEvent.objects.filter(target_id=sid).values_list("action", "outcome").distinct()
    )
    assert outcomes == {
        "create_snapshot": "success",
        "update_snapshot": "success",
        "update_snapshot_metadata": "success",
        "delete_snapshot": "success",
    }


def test_admin_repairs_through_the_views(keystone_mode, made, tag):
    backend = keystone_mode
    outside = backend.outside("beta")
    stuck, broken = _two_synced(backend, made, "beta", tag, ("stuck", "broken"), creating="stuck")
    admin = sign_in(backend, "admin", project="alpha")  # repairs another project's snapshots

    # set status and progress: creating -> available at 100 %
    response = post_form(
        admin, f"/snapshots/{stuck.id}/set-status/", {"status": "available", "progress": "100"}
    )
    assert response.status_code == 302, response.content[:500]
    seen = outside.get_snapshot(stuck.id)
    assert (seen.status, seen.progress) == ("available", 100)
    mirror_matches(seen)

    # reset status: available -> error, with a reason kept in the audit log
    response = post_form(
        admin, f"/snapshots/{broken.id}/reset-status/", {"status": "error", "reason": tag}
    )
    assert response.status_code == 302, response.content[:500]
    assert outside.get_snapshot(broken.id).status == "error"
    assert row(broken.id).status == "error"
    event = AuditEvent.objects.get(action="reset_snapshot_status", target_id=broken.id)
    assert (event.outcome, event.parameters["reason"]) == ("success", tag)

    # force delete
    response = post_form(admin, f"/snapshots/{broken.id}/force-delete/")
    assert response.status_code == 302, response.content[:500]
    backend.wait_gone("beta", broken.id)


def _synced_ids(backend, made, project: str, tag: str, count: int) -> list[str]:
    """`count` snapshots made outside on the project's first volumes, then a sync."""
    snaps = [create_outside(backend, made, project, f"{tag}-{n}", volume=n) for n in range(count)]
    sync_all()
    return [s.id for s in snaps]


def _bulk_done(client, url: str, ids: list[str], said: str, **fields) -> None:
    """The bulk form at `url` confirmed for `ids`: a redirect, and the page after it says `said`."""
    response = post_form(client, url, {"ids": ids, "confirm": "yes", **fields}, ids=ids)
    assert response.status_code == 302, response.content[:500]
    assert said in flash(client.get(response["Location"]))


def test_admin_bulk_forms(keystone_mode, made, tag):
    backend = keystone_mode
    ids = _synced_ids(backend, made, "gamma", tag, 3)
    admin = sign_in(backend, "admin", project="alpha")

    page = admin.get("/snapshots/bulk/reset-status/", {"ids": ids[:2]})
    assert page.status_code == 200
    url, fields = "/snapshots/bulk/reset-status/", {"status": "error", "reason": tag}
    _bulk_done(admin, url, ids[:2], "2 of 2 reset to error", **fields)
    assert [backend.outside("gamma").get_snapshot(i).status for i in ids[:2]] == ["error"] * 2

    _bulk_done(admin, "/snapshots/bulk/force-delete/", ids, "3 of 3 force-deleted")
    for sid in ids:
        backend.wait_gone("gamma", sid)


def test_member_bulk_delete(keystone_mode, made, tag):
    backend = keystone_mode
    ids = _synced_ids(backend, made, "alpha", tag, 2)
    member = sign_in(backend, "demo", project="alpha")
    _bulk_done(member, "/snapshots/bulk/delete/", ids, "2 of 2 deleted")
    for sid in ids:
        backend.wait_gone("alpha", sid)


def test_member_admin_action_is_refused_before_cinder(keystone_mode, made, tag):
    backend = keystone_mode
    snap = create_outside(backend, made, "alpha", f"{tag}-m")
    sync_all()
    member = sign_in(backend, "demo", project="alpha")
    admin = sign_in(backend, "admin", project="alpha")
    # The member's page offers no repair; the admin's does.
    for url in ("reset-status", "force-delete"):
        link = f"/snapshots/{snap.id}/{url}/"
        assert link not in member.get(f"/snapshots/{snap.id}/").content.decode()
        assert link in admin.get(f"/snapshots/{snap.id}/").content.decode()
    for url in ("reset-status", "force-delete", "set-status"):
        refused = member.get(f"/snapshots/{snap.id}/{url}/")
        assert refused.status_code == 403
        assert b"Your role does not allow" in refused.content
    response = member.post(
        f"/snapshots/{snap.id}/reset-status/",
        {"idempotency_key": "k" * 20, "status": "error", "reason": "x"},
    )
    assert response.status_code == 403
    response = member.post(
        "/snapshots/bulk/force-delete/",
        {"ids": [snap.id], "confirm": "yes", "idempotency_key": "k"},
    )
    assert response.status_code == 403
    assert backend.outside("alpha").get_snapshot(snap.id).status == "available"
    # Cinder itself would have said no as well, in words the dashboard shows.
    with pytest.raises(errors.Forbidden) as caught:
        backend.gateway("demo", "alpha").reset_snapshot_status(snap.id, "error")
    assert caught.value.user_message().startswith(
        "Not permitted by the cloud's policy: Policy doesn't allow "
        "volume_extension:snapshot_admin_actions:reset_status to be performed."
    )


def test_reader_cannot_create(keystone_mode, made, tag):
    backend = keystone_mode
    reader = sign_in(backend, "auditor", project="alpha")
    assert reader.get("/snapshots/create/").status_code == 403
    response = create_through_form_as_reader(reader, backend, tag)
    assert response.status_code == 403
    # The dashboard refuses first, so nothing reaches Cinder from the service either ...
    scope = scope_from_session(reader.session["cloud"])
    gateway = backend.gateway("auditor", "alpha")
    volume = backend.volume_ids("alpha")[0]
    with pytest.raises(PermissionDenied):
        snapshot_create(
            caller=Caller(scope, gateway),
            volume_id=volume,
            name=f"{tag}-no",
            description="",
            metadata={},
            force=False,
        )
    assert AuditEvent.objects.filter(action="create_snapshot", outcome="denied").exists()
    # ... and when the reader's own token does reach Cinder, its 403 reads plainly.
    with pytest.raises(errors.Forbidden) as caught:
        gateway.create_snapshot(volume_id=volume, name=f"{tag}-no")
    assert caught.value.status_code == 403
    assert caught.value.user_message().startswith(
        "Not permitted by the cloud's policy: Policy doesn't allow volume:create_snapshot to "
        "be performed. (request req-"
    )
    names = {s.name for s in backend.outside("alpha").list_snapshots(name=f"{tag}-no").items}
    assert names == set()


def create_through_form_as_reader(reader, backend, tag):
    """The create POST a reader could forge (there is no form for them to render)."""
    return reader.post(
        "/snapshots/create/",
        {
            "idempotency_key": "k" * 20,
            "volume": backend.volume_ids("alpha")[0],
            "name": f"{tag}-no",
            "meta-TOTAL_FORMS": "0",
            "meta-INITIAL_FORMS": "0",
        },
    )


def test_cinders_404_and_400_reach_the_page(keystone_mode, made, tag):
    """The mirror is behind Cinder: what Cinder refuses is shown in its words, nothing changes."""
    backend = keystone_mode
    outside = backend.outside("alpha")
    names = ("vanished", "moved")
    vanished, moved = _two_synced(backend, made, "alpha", tag, names, creating="moved")
    outside.delete_snapshot(vanished.id)
    backend.wait_gone("alpha", vanished.id)
    outside.reset_snapshot_status(moved.id, "available")  # the mirror still says creating

    member = sign_in(backend, "demo", project="alpha")
    response = post_form(member, f"/snapshots/{vanished.id}/edit/", {"name": f"{tag}-x"})
    assert response.status_code == 404
    text = flash(response)
    assert f"Not found in the cloud: Snapshot {vanished.id} could not be found." in text
    assert "(request req-" in text and "Nothing was changed." in text

    admin = sign_in(backend, "admin", project="alpha")
    response = post_form(
        admin, f"/snapshots/{moved.id}/set-status/", {"status": "error", "progress": ""}
    )
    assert response.status_code == 400
    assert (
        "Cinder rejected the request: Snapshot status available not allowed for "
        "update_snapshot_status" in flash(response)
    )
    assert outside.get_snapshot(moved.id).status == "available"
    events = AuditEvent.objects.filter(target_id__in=[vanished.id, moved.id]).exclude(
        outcome="success"
    )
    assert {e.action for e in events} == {"update_snapshot", "set_snapshot_status"}
    assert all(e.request_id.startswith("req-") for e in events)
