"""Attachments, volumes from snapshots, revert, user messages, quota usage, manageable snapshots."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from openstack import exceptions

from cloudsim.tests.conftest import make_conn

MV = "3.71"


def new_volume(sim, conn, size=2, **kw):
    vol = conn.block_storage.create_volume(size=size, **kw)
    sim.advance(3.5)
    return conn.block_storage.get_volume(vol.id)


def new_snapshot(sim, conn, volume_id, **kw):
    snap = conn.block_storage.create_snapshot(volume_id=volume_id, **kw)
    sim.advance(3.5)
    return conn.block_storage.get_snapshot(snap.id)


# -- attachments -------------------------------------------------------------------------------
def test_attachment_reserve_complete_delete_moves_the_volume(sim, conn, raw):
    vol = new_volume(sim, conn)
    att = conn.block_storage.create_attachment(vol.id, instance=str(uuid.uuid4()))
    assert att.status == "reserved"
    assert conn.block_storage.get_volume(vol.id).status == "reserved"
    conn.block_storage.complete_attachment(att.id)
    in_use = conn.block_storage.get_volume(vol.id)
    assert in_use.status == "in-use"
    assert [a["attachment_id"] for a in in_use.attachments] == [att.id]
    # the force rule: a snapshot of an in-use volume needs force below 3.66
    refused = raw.post("/snapshots", json={"snapshot": {"volume_id": vol.id}}, mv="3.65")
    assert refused.status_code == 400
    assert "in-use" in refused.json()["badRequest"]["message"]
    # a second attachment of a volume that is not multiattach is refused
    again = raw.post("/attachments", json={"attachment": {"volume_uuid": vol.id}}, mv=MV)
    assert again.status_code == 400
    conn.block_storage.delete_attachment(att.id)
    detached = conn.block_storage.get_volume(vol.id)
    assert (detached.status, detached.attachments) == ("available", [])


def test_attachment_with_a_connector_is_attaching_until_complete(sim, conn, raw):
    vol = new_volume(sim, conn)
    body = {"attachment": {"volume_uuid": vol.id, "connector": {"initiator": "iqn.x"}}}
    r = raw.post("/attachments", json=body, mv=MV)
    assert r.status_code == 200
    assert r.json()["attachment"]["status"] == "attaching"
    assert raw.get(f"/volumes/{vol.id}", mv=MV).json()["volume"]["status"] == "attaching"
    aid = r.json()["attachment"]["id"]
    assert raw.post(f"/attachments/{aid}/action", json={"os-complete": {}}, mv=MV).status_code == (
        204
    )
    assert raw.get(f"/volumes/{vol.id}", mv=MV).json()["volume"]["status"] == "in-use"


def test_attachments_need_their_microversions_and_a_member(sim, conn, raw, raw_reader):
    vol = new_volume(sim, conn)
    body = {"attachment": {"volume_uuid": vol.id}}
    assert raw.post("/attachments", json=body, mv="3.26").status_code == 404
    assert raw_reader.post("/attachments", json=body, mv=MV).status_code == 403
    aid = raw.post("/attachments", json=body, mv=MV).json()["attachment"]["id"]
    assert raw.post(
        f"/attachments/{aid}/action", json={"os-complete": {}}, mv="3.43"
    ).status_code == (404)


def test_volume_reset_to_in_use_needs_an_attachment(sim, conn, raw_admin):
    vol = new_volume(sim, conn)
    reset = {"os-reset_status": {"status": "in-use"}}
    assert raw_admin.post(f"/volumes/{vol.id}/action", json=reset).status_code == 400
    conn.block_storage.create_attachment(vol.id, instance=str(uuid.uuid4()))
    assert raw_admin.post(f"/volumes/{vol.id}/action", json=reset).status_code == 202


# -- volumes from snapshots --------------------------------------------------------------------
def test_volume_from_a_snapshot_keeps_its_zone_and_type_and_becomes_available(sim, conn, raw):
    src = new_volume(sim, conn, size=3)
    snap = new_snapshot(sim, conn, src.id)
    vol = conn.block_storage.create_volume(snapshot_id=snap.id, size=5, name="copy")
    assert vol.status == "creating"
    sim.advance(3.5)
    vol = conn.block_storage.get_volume(vol.id)
    assert (vol.status, vol.size, vol.snapshot_id) == ("available", 5, snap.id)
    assert vol.availability_zone == src.availability_zone
    assert vol.volume_type == src.volume_type
    small = raw.post("/volumes", json={"volume": {"snapshot_id": snap.id, "size": 2}})
    assert small.status_code == 400
    assert "cannot be smaller than the snapshot size" in small.json()["badRequest"]["message"]
    zone = raw.post(
        "/volumes",
        json={"volume": {"snapshot_id": snap.id, "size": 3, "availability_zone": "nowhere"}},
    )
    assert zone.status_code == 400
    kind = raw.post(
        "/volumes", json={"volume": {"snapshot_id": snap.id, "size": 3, "volume_type": "gold"}}
    )
    assert kind.status_code == 404


def test_volume_quota_gives_413(sim, conn, raw):
    src = new_volume(sim, conn, size=3)
    snap = new_snapshot(sim, conn, src.id)
    sim.set_quota("alpha", volumes=0)
    r = raw.post("/volumes", json={"volume": {"snapshot_id": snap.id}})
    assert r.status_code == 413
    assert "volumes" in r.json()["overLimit"]["message"]


# -- revert ------------------------------------------------------------------------------------
def test_revert_to_the_latest_snapshot(sim, conn, raw):
    vol = new_volume(sim, conn, size=2)
    older = new_snapshot(sim, conn, vol.id)
    sim.advance(1)
    latest = new_snapshot(sim, conn, vol.id)
    body = {"revert": {"snapshot_id": older.id}}
    r = raw.post(f"/volumes/{vol.id}/action", json=body, mv="3.40")
    assert r.status_code == 400
    assert "is None or not the latest one of volume" in r.json()["badRequest"]["message"]
    assert raw.post(f"/volumes/{vol.id}/action", json=body, mv="3.39").status_code == 404
    conn.block_storage.revert_volume_to_snapshot(vol.id, latest.id)
    assert conn.block_storage.get_volume(vol.id).status == "reverting"
    assert conn.block_storage.get_snapshot(latest.id).status == "restoring"
    again = raw.post(
        f"/volumes/{vol.id}/action", json={"revert": {"snapshot_id": latest.id}}, mv="3.40"
    )
    assert again.status_code == 409
    sim.advance(3.5)
    assert conn.block_storage.get_volume(vol.id).status == "available"
    assert conn.block_storage.get_snapshot(latest.id).status == "available"


# -- user messages -----------------------------------------------------------------------------
def test_a_failed_create_leaves_a_user_message(sim, conn, raw, raw_admin):
    vol = new_volume(sim, conn)
    sim.faults(create_error_rate=1.0)
    snap = conn.block_storage.create_snapshot(volume_id=vol.id)
    sim.advance(3.5)
    assert conn.block_storage.get_snapshot(snap.id).status == "error"
    assert raw.get("/messages", mv="3.2").status_code == 404
    found = raw.get("/messages", params={"resource_uuid": snap.id}, mv="3.3").json()["messages"]
    assert len(found) == 1
    msg = found[0]
    assert msg["resource_type"] == "VOLUME_SNAPSHOT"
    assert msg["message_level"] == "ERROR"
    # cinder 29's own text and event id for a failed snapshot create (action 009, detail 013)
    assert msg["user_message"] == "create snapshot:Snapshot failed to create."
    assert msg["event_id"] == "VOLUME_VOLUME_SNAPSHOT_009_013"
    assert {"id", "created_at", "guaranteed_until", "request_id", "links"} <= set(msg)
    project = sim.project_id("alpha")
    assert [(link["rel"], urlsplit(link["href"]).path) for link in msg["links"]] == [
        ("self", f"/volume/v3/{project}/messages/{msg['id']}"),
        ("bookmark", f"/volume/{project}/messages/{msg['id']}"),
    ]
    # openstacksdk's Message has no microversion: its list is sent at 3.0 and is a 404
    with pytest.raises(exceptions.NotFoundException):
        list(conn.block_storage.messages())
    shown = raw.get(f"/messages/{msg['id']}", mv="3.3").json()["message"]
    assert shown["id"] == msg["id"]
    # another project's member does not see it; an admin sees every project's
    beta = make_conn(sim, "demo", "beta")
    assert beta.block_storage.get("/messages", microversion="3.3").json()["messages"] == []
    assert any(
        m["id"] == msg["id"] for m in raw_admin.get("/messages", mv="3.3").json()["messages"]
    )
    sim.clear_faults()
    failed_volume = None
    sim.faults(create_error_rate=1.0)
    failed_volume = conn.block_storage.create_volume(size=1)
    sim.advance(3.5)
    vmsgs = raw.get("/messages", params={"resource_uuid": failed_volume.id}, mv="3.3").json()
    assert vmsgs["messages"][0]["resource_type"] == "VOLUME"
    assert raw.delete(f"/messages/{msg['id']}", mv="3.3").status_code == 204


# -- quota -------------------------------------------------------------------------------------
def test_quota_set_with_usage_and_limits_agree(sim, conn, raw, raw_reader, raw_admin):
    alpha = sim.project_id("alpha")
    beta = sim.project_id("beta")
    sim.set_quota("alpha", snapshots=50, gigabytes=5000)
    qs = raw.get(f"/os-quota-sets/{alpha}", params={"usage": "True"}).json()["quota_set"]
    absolute = raw.get("/limits").json()["limits"]["absolute"]
    assert qs["id"] == alpha
    assert qs["snapshots"]["limit"] == absolute["maxTotalSnapshots"] == 50
    assert qs["snapshots"]["in_use"] == absolute["totalSnapshotsUsed"]
    assert qs["gigabytes"]["in_use"] == absolute["totalGigabytesUsed"]
    assert set(qs["gigabytes"]) == {"limit", "in_use", "reserved"}
    plain = raw.get(f"/os-quota-sets/{alpha}").json()["quota_set"]
    assert plain["snapshots"] == 50
    sdk = conn.block_storage.get_quota_set(alpha, usage=True)
    assert sdk.usage["snapshots"] == qs["snapshots"]["in_use"]
    assert raw_reader.get(f"/os-quota-sets/{alpha}").status_code == 200
    assert raw.get(f"/os-quota-sets/{beta}").status_code == 403
    assert raw_admin.get(f"/os-quota-sets/{beta}").status_code == 200


# -- manageable snapshots ----------------------------------------------------------------------
def test_unmanage_then_manage_back(sim, conn, admin_conn, raw, raw_admin):
    vol = new_volume(sim, conn)
    snap = new_snapshot(sim, conn, vol.id, name="keep-me")
    host = "cloudsim@lvm"
    listed = raw_admin.get("/manageable_snapshots", params={"host": host}, mv="3.8").json()
    mine = [
        e for e in listed["manageable-snapshots"] if e["reference"]["source-name"].endswith(snap.id)
    ]
    assert mine and mine[0]["safe_to_manage"] is False
    assert set(mine[0]) == {"reference", "size", "safe_to_manage", "source_reference"}
    assert (
        raw_admin.get("/manageable_snapshots", params={"host": host}, mv="3.7").status_code == 404
    )
    neither = raw_admin.get("/manageable_snapshots", mv="3.8")
    assert neither.status_code == 400
    assert neither.json()["badRequest"]["message"] == (
        "Invalid input received: Host field is missing."
    )
    assert raw.get("/manageable_snapshots", params={"host": host}, mv="3.8").status_code == 403
    assert (
        raw_admin.get("/manageable_snapshots", params={"host": "nohost@x"}, mv="3.8").status_code
        == 404
    )

    admin_conn.block_storage.unmanage_snapshot(snap.id)
    assert conn.block_storage.get_snapshot(snap.id).status == "unmanaging"
    sim.advance(2.5)
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.get_snapshot(snap.id)
    entries = list(
        admin_conn.block_storage.manageable_snapshots(details=True, host=host, microversion="3.8")
    )
    free = [e for e in entries if e.reference["source-name"] == f"_snapshot-{snap.id}"]
    assert len(free) == 1
    assert (free[0].safe_to_manage, free[0].cinder_id, free[0].size) == (True, None, vol.size)

    managed = admin_conn.block_storage.manage_snapshot(
        volume_id=vol.id, ref=free[0].reference, name="back", description="d", metadata={"k": "v"}
    )
    assert managed.status == "creating"
    sim.advance(3.5)
    again = admin_conn.block_storage.get_snapshot(managed.id)
    assert (again.status, again.name, again.metadata) == ("available", "back", {"k": "v"})
    # the same reference is no longer free; managing a name that is not there fails the snapshot
    legacy = raw_admin.post(
        "/os-snapshot-manage",
        json={"snapshot": {"volume_id": vol.id, "ref": {"source-name": "nothing-here"}}},
        mv=None,
    )
    assert legacy.status_code == 202
    sim.advance(3.5)
    assert admin_conn.block_storage.get_snapshot(legacy.json()["snapshot"]["id"]).status == "error"
    member = raw.post(
        "/os-snapshot-manage", json={"snapshot": {"volume_id": vol.id, "ref": "x"}}, mv=None
    )
    assert member.status_code == 403


# -- documents and bodies ----------------------------------------------------------------------
def test_version_documents_carry_the_version_headers(sim):
    import requests

    root = requests.get(f"{sim.url}/volume/", timeout=10)
    assert root.status_code == 300
    assert root.headers["OpenStack-API-Version"] == "volume 3.0"
    assert root.headers["Vary"] == "OpenStack-API-Version"
    v3 = requests.get(
        f"{sim.url}/volume/v3/", headers={"OpenStack-API-Version": "volume latest"}, timeout=10
    )
    assert v3.headers["OpenStack-API-Version"] == "volume 3.71"


def test_volume_bodies_per_role(sim, raw, raw_admin, raw_reader):
    vid = raw.get("/volumes/detail", mv=MV).json()["volumes"][0]["id"]
    member = raw.get(f"/volumes/{vid}", mv=MV).json()["volume"]
    reader = raw_reader.get(f"/volumes/{vid}", mv=MV).json()["volume"]
    admin = raw_admin.get(f"/volumes/{vid}", mv=MV).json()["volume"]
    admin_only = {
        "os-vol-host-attr:host",
        "os-vol-mig-status-attr:migstat",
        "os-vol-mig-status-attr:name_id",
        "provider_id",
        "cluster_name",
        "migration_status",  # cinder 29's legacy_detail adds it for admins only
    }
    assert set(member) == set(reader)
    assert set(admin) - set(member) == admin_only
    assert "os-vol-tenant-attr:tenant_id" in member


def test_a_create_answers_without_the_show_extensions(sim, raw, raw_admin):
    """cinder's os-vol-* extensions extend show and detail, not create, and a new volume has no
    service yet (as cinder 29 answers it)."""
    vid = raw.get("/volumes/detail", mv=MV).json()["volumes"][0]["id"]
    snap = raw.post("/snapshots", json={"snapshot": {"volume_id": vid}}, mv=MV).json()
    sim.advance(3.5)
    for who in (raw, raw_admin):
        made = who.post(
            "/volumes", json={"volume": {"snapshot_id": snap["snapshot"]["id"]}}, mv=MV
        ).json()["volume"]
        assert not [k for k in made if k.startswith("os-vol-")]
        assert made["service_uuid"] is None
        assert ("migration_status" in made) == (who is raw_admin)
