"""The workflow pages for each role: create a volume from a snapshot, revert, failure messages,
quota on the create forms, unmanage and the Manageable page. GETs never reach Cinder."""

from __future__ import annotations

import re

from snapshots.cloud.credentials import service_gateway
from snapshots.models import ManageableSnapshot, ProjectQuota, Snapshot, UserMessage, Volume
from snapshots.services import messages as message_service
from snapshots.services import mirror, volume_tracking
from snapshots.tests.actions_helpers import (
    cinder_calls,
    form_key,
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
    signed_in,
    world_fixture,  # noqa: F401 (the fixture)
)

HOST = "cloudsim@lvm"


def _create_volume(client, snap, **fields):
    page = client.get(f"/snapshots/{snap.id}/create-volume/")
    data = {"idempotency_key": form_key(page), "name": "copy", "description": "", "size": "4"}
    data.update(fields)
    return client.post(f"/snapshots/{snap.id}/create-volume/", data)


# -- detail page -------------------------------------------------------------------------------
def test_detail_offers_each_role_what_it_may_do(world):
    cloud, _vol, snap = world
    demo = signed_in(cloud, "demo").get(f"/snapshots/{snap.id}/").content.decode()
    assert f"/snapshots/{snap.id}/create-volume/" in demo
    assert f"/snapshots/{snap.id}/revert/" in demo  # its volume's latest snapshot
    assert "/unmanage/" not in demo
    auditor = signed_in(cloud, "auditor").get(f"/snapshots/{snap.id}/").content.decode()
    assert "/create-volume/" not in auditor and "/revert/" not in auditor
    admin = signed_in(cloud, "admin", "alpha").get(f"/snapshots/{snap.id}/").content.decode()
    assert f"/snapshots/{snap.id}/unmanage/" in admin
    assert "Volumes made from this snapshot" in admin
    assert cinder_calls(cloud) == 0


def test_revert_is_not_offered_for_an_older_snapshot(world):
    cloud, vol, snap = world
    make_snapshot(cloud, "alpha", "available", volume_id=vol["id"], size=4)
    html = signed_in(cloud, "demo").get(f"/snapshots/{snap.id}/").content.decode()
    assert f"/snapshots/{snap.id}/revert/" not in html
    assert "A volume can be reverted only to its latest snapshot." in html


# -- create a volume from a snapshot -----------------------------------------------------------
def test_member_creates_a_volume_and_sees_it_become_available(world):
    cloud, _vol, snap = world
    client = signed_in(cloud, "demo")
    page = client.get(f"/snapshots/{snap.id}/create-volume/")
    assert page.status_code == 200
    assert cinder_calls(cloud) == 0
    html = page.content.decode()
    assert 'min="4"' in html and "Same as the source volume" in html
    response = _create_volume(client, snap, name="copy-1", size="6")
    assert response.status_code == 302
    assert response["Location"] == f"/snapshots/{snap.id}/#made-volumes"
    made = Volume.objects.get(snapshot_id=snap.id, name="copy-1")
    assert (made.status, made.size) == ("creating", 6)
    detail = client.get(f"/snapshots/{snap.id}/").content.decode()
    assert "copy-1" in detail and "hx-get" in detail  # polls while creating
    cloud.advance(5)
    volume_tracking.track_volumes()
    live = client.get(f"/snapshots/{snap.id}/made-volumes/")
    assert live.status_code == 286  # settled: the poll stops
    assert "available" in live.content.decode()
    volumes_page = client.get("/snapshots/volumes/").content.decode()
    assert "copy-1" in volumes_page


def test_too_small_is_a_form_error_and_reader_is_refused(world):
    cloud, _vol, snap = world
    client = signed_in(cloud, "demo")
    response = _create_volume(client, snap, size="3")
    assert response.status_code == 400
    assert "at least as large as the snapshot (4 GiB)" in response.content.decode()
    assert cinder_calls(cloud) == 0
    assert signed_in(cloud, "auditor").get(f"/snapshots/{snap.id}/create-volume/").status_code == (
        403
    )
    gamma = make_snapshot(cloud, "gamma", "available")
    assert client.get(f"/snapshots/{gamma.id}/create-volume/").status_code == 404


def test_quota_is_shown_and_refused_locally(world):
    cloud, _vol, snap = world
    ProjectQuota.objects.create(
        project_id=snap.project_id,
        gigabytes_limit=100,
        gigabytes_used=98,
        snapshots_limit=50,
        snapshots_used=10,
    )
    client = signed_in(cloud, "demo")
    page = client.get(f"/snapshots/{snap.id}/create-volume/").content.decode()
    assert re.search(r"Gigabytes</th><td>98</td><td>100</td><td>2</td>", page)
    assert "Snapshots</th><td>10</td><td>50</td><td>40</td>" in page
    response = _create_volume(client, snap)
    assert response.status_code == 409
    assert "gigabytes quota would be exceeded" in response.content.decode()
    assert cinder_calls(cloud) == 0
    create_page = client.get("/snapshots/create/").content.decode()
    assert 'id="quota-table"' in create_page


def test_cinders_413_is_shown_when_the_mirror_was_behind(world):
    cloud, _vol, snap = world
    cloud.set_quota("alpha", gigabytes=1)
    response = _create_volume(signed_in(cloud, "demo"), snap)
    assert response.status_code == 400
    assert "exceeds allowed gigabytes quota" in response.content.decode()


# -- revert ------------------------------------------------------------------------------------
def test_member_reverts_after_a_confirmation_that_says_what_is_lost(world):
    cloud, vol, snap = world
    client = signed_in(cloud, "demo")
    page = client.get(f"/snapshots/{snap.id}/revert/")
    assert page.status_code == 200
    assert "Everything written to the volume after" in page.content.decode()
    response = client.post(f"/snapshots/{snap.id}/revert/", {"idempotency_key": form_key(page)})
    assert response.status_code == 302
    assert Snapshot.objects.get(pk=snap.id).status == "restoring"
    assert Volume.objects.get(pk=vol["id"]).status == "reverting"
    assert signed_in(cloud, "auditor").get(f"/snapshots/{snap.id}/revert/").status_code == 403


# -- why did it fail? --------------------------------------------------------------------------
def test_failure_message_on_the_detail_page_and_as_a_hint_in_the_list(world):
    cloud, vol, _snap = world
    cloud.faults(create_error_rate=1.0)
    made = service_gateway().create_snapshot(volume_id=vol["id"], name="doomed")
    cloud.advance(5)
    cloud.clear_faults()
    failed = make_snapshot_from(made.id)
    assert failed.status == "error"
    message_service.refresh_messages()
    client = signed_in(cloud, "demo")
    cloud.reset_stats()
    detail = client.get(f"/snapshots/{failed.id}/").content.decode()
    assert "Why did it fail?" in detail
    assert "create snapshot:Snapshot failed to create." in detail
    listing = client.get("/snapshots/?status=error").content.decode()
    assert "failure-hint" in listing and "Snapshot failed to create." in listing
    assert cinder_calls(cloud) == 0
    # a message never shows on another project's page
    assert UserMessage.objects.filter(resource_uuid=failed.id).exists()
    assert signed_in(cloud, "demo", "beta").get(f"/snapshots/{failed.id}/").status_code == 404


def make_snapshot_from(snapshot_id):
    from snapshots.choices import ChangeSource

    row, _ = mirror.apply(service_gateway().get_snapshot(snapshot_id), source=ChangeSource.SYNC)
    return row


# -- unmanage and manage (admins) --------------------------------------------------------------
def test_admin_unmanages_and_manages_back_through_the_pages(world):
    cloud, vol, snap = world
    demo = signed_in(cloud, "demo")
    assert demo.get(f"/snapshots/{snap.id}/unmanage/").status_code == 403
    assert demo.get("/snapshots/manageable/").status_code == 403
    admin = signed_in(cloud, "admin", "alpha")
    page = admin.get(f"/snapshots/{snap.id}/unmanage/")
    assert "leaves Cinder, not the backend" in page.content.decode()
    response = admin.post(f"/snapshots/{snap.id}/unmanage/", {"idempotency_key": form_key(page)})
    assert response.status_code == 302
    assert Snapshot.objects.get(pk=snap.id).status == "unmanaging"
    cloud.advance(5)
    cloud.reset_stats()
    listing = admin.get("/snapshots/manageable/", {"host": HOST})
    assert listing.status_code == 200 and cinder_calls(cloud) == 0
    assert "Read from Cinder" in listing.content.decode()
    response = admin.post("/snapshots/manageable/refresh/", {"host": HOST})
    assert response.status_code == 302
    entry = ManageableSnapshot.objects.get(host=HOST, name=f"_snapshot-{snap.id}")
    listing = admin.get("/snapshots/manageable/", {"host": HOST}).content.decode()
    assert f"/snapshots/manageable/manage/?entry={entry.pk}" in listing
    form = admin.get(f"/snapshots/manageable/manage/?entry={entry.pk}")
    assert form.status_code == 200
    response = admin.post(
        f"/snapshots/manageable/manage/?entry={entry.pk}",
        {
            "idempotency_key": form_key(form),
            "name": "back-again",
            "description": "managed",
            "meta-TOTAL_FORMS": "1",
            "meta-INITIAL_FORMS": "0",
            "meta-MIN_NUM_FORMS": "0",
            "meta-MAX_NUM_FORMS": "1000",
            "meta-0-key": "ticket",
            "meta-0-value": "7",
        },
    )
    assert response.status_code == 302
    back = Snapshot.objects.get(name="back-again")
    assert response["Location"] == f"/snapshots/{back.id}/"
    assert (back.status, back.volume_id, back.metadata) == ("creating", vol["id"], {"ticket": "7"})


def test_a_bad_host_is_a_message_not_a_call(world):
    cloud, _vol, _snap = world
    admin = signed_in(cloud, "admin", "alpha")
    response = admin.post("/snapshots/manageable/refresh/", {"host": "nohost"}, follow=True)
    assert "host@backend" in response.content.decode()
    response = admin.post("/snapshots/manageable/refresh/", {"host": "nowhere@x"}, follow=True)
    assert "could not be found" in response.content.decode()


def test_volumes_page_reloads_while_a_volume_is_made_and_a_failed_one_says_why(world):
    cloud, _vol, snap = world
    client = signed_in(cloud, "demo")
    cloud.faults(create_error_rate=1.0)
    response = _create_volume(client, snap, name="will-fail")
    cloud.clear_faults()
    assert response.status_code == 302
    made = Volume.objects.get(name="will-fail")
    volumes_page = client.get("/snapshots/volumes/").content.decode()
    assert 'id="volume-area" hx-get="/snapshots/volumes/"' in volumes_page
    cloud.advance(5)
    volume_tracking.track_volumes()
    assert Volume.objects.get(pk=made.id).status == "error"
    message_service.refresh_messages()
    volumes_page = client.get("/snapshots/volumes/").content.decode()
    assert 'id="volume-area">' in volumes_page  # settled: no more polling
    detail = client.get(f"/snapshots/{snap.id}/").content.decode()
    assert "Why it failed: schedule allocate volume:Could not find any available" in detail
