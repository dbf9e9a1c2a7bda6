"""The snapshot workflows through the views, signed in with Keystone, on each backend: a member
makes a volume from a snapshot and reverts a volume to its latest snapshot; an admin unmanages.
Cinder's default policy has the last word, and the mirror follows what Cinder did."""

from __future__ import annotations

import contextlib

import requests

from snapshots.models import AuditEvent, Volume
from snapshots.services import volume_tracking
from tests.behaviour.helpers import (
    create_outside,
    flash,
    older_and_latest,
    post_form,
    row,
    sign_in,
    sync_all,
)
from tests.behaviour.test_workflows_cloud import Raw


def _cleanup_volume(backend, project: str, vid: str) -> None:
    raw = Raw(backend, "admin", project)
    with contextlib.suppress(requests.RequestException, AssertionError):
        backend.wait_until(
            lambda: (
                raw("GET", f"/volumes/{vid}").json().get("volume", {}).get("status")
                not in ("creating", "reverting")
            ),
            what="volume settled",
        )
        raw("DELETE", f"/volumes/{vid}", params={"cascade": "true", "force": "true"})


def test_member_makes_a_volume_from_a_snapshot(keystone_mode, made, tag):
    backend = keystone_mode
    snap = create_outside(backend, made, "alpha", f"{tag}-src")
    sync_all()
    client = sign_in(backend, "demo", project="alpha")
    response = post_form(
        client,
        f"/snapshots/{snap.id}/create-volume/",
        {"name": f"{tag}-copy", "description": "", "size": str(snap.size)},
    )
    assert response.status_code == 302, response.content[:500]
    volume = Volume.objects.get(snapshot_id=snap.id, name=f"{tag}-copy")
    try:
        assert volume.project_id == backend.project_id("alpha")
        backend.wait_until(
            lambda: (
                volume_tracking.track_volumes(volume_id=volume.id)
                and Volume.objects.get(pk=volume.id).status == "available"
            ),
            what="the new volume available in the mirror",
        )
        detail = client.get(f"/snapshots/{snap.id}/").content.decode()
        assert f"{tag}-copy" in detail
        event = AuditEvent.objects.filter(action="create_volume_from_snapshot").latest("id")
        assert (event.outcome, event.parameters["volume_id"]) == ("success", volume.id)
    finally:
        _cleanup_volume(backend, "alpha", volume.id)


def test_revert_is_refused_for_an_older_snapshot_and_goes_through_for_the_latest(
    keystone_mode, made, tag
):
    backend = keystone_mode
    seed = create_outside(backend, made, "alpha", f"{tag}-seed", volume=2)
    admin = backend.outside("alpha")
    vol, _ = admin.create_volume(snapshot_id=seed.id, size=seed.size, name=f"{tag}-rv")
    try:
        backend.wait_until(lambda: admin.get_volume(vol.id).status == "available")
        older, latest = older_and_latest(backend, made, "alpha", vol.id, tag)
        sync_all()
        client = sign_in(backend, "demo", project="alpha")
        refused = post_form(client, f"/snapshots/{older.id}/revert/")
        assert refused.status_code == 409
        assert "latest snapshot" in flash(refused)
        response = post_form(client, f"/snapshots/{latest.id}/revert/")
        assert response.status_code == 302, response.content[:500]
        backend.wait_status("alpha", latest.id, "available")
        assert row(latest.id).status in ("restoring", "available")
    finally:
        _cleanup_volume(backend, "alpha", vol.id)


def test_admin_unmanages_through_the_view_and_a_member_may_not(keystone_mode, made, tag):
    backend = keystone_mode
    snap = create_outside(backend, made, "alpha", f"{tag}-um")
    sync_all()
    member = sign_in(backend, "demo", project="alpha")
    assert member.get(f"/snapshots/{snap.id}/unmanage/").status_code == 403
    admin = sign_in(backend, "admin", project="alpha")
    response = post_form(admin, f"/snapshots/{snap.id}/unmanage/")
    assert response.status_code == 302, response.content[:500]
    backend.wait_gone("alpha", snap.id)
    event = AuditEvent.objects.filter(action="unmanage_snapshot", target_id=snap.id).get()
    assert event.outcome == "success"
