"""Volumes (list, show, create, delete) and limits."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from openstack import exceptions


def test_volume_lists(sim, raw, conn):
    summary = raw.get("/volumes").json()["volumes"]
    assert summary
    assert set(summary[0]) == {"id", "name", "links"}
    alpha = sim.project_id("alpha")
    vid = summary[0]["id"]
    assert [(link["rel"], urlsplit(link["href"]).path) for link in summary[0]["links"]] == [
        ("self", f"/volume/v3/{alpha}/volumes/{vid}"),
        ("bookmark", f"/volume/{alpha}/volumes/{vid}"),
    ]
    detail = raw.get("/volumes/detail").json()["volumes"]
    assert {v["id"] for v in detail} == {v["id"] for v in summary}
    assert {v["os-vol-tenant-attr:tenant_id"] for v in detail} == {alpha}
    statuses = {v["status"] for v in detail}
    assert {"available", "in-use", "error"} <= statuses
    in_use = next(v for v in detail if v["status"] == "in-use")
    assert in_use["attachments"][0]["server_id"]
    sdk = {v.id: v for v in conn.block_storage.volumes()}
    assert set(sdk) == {v["id"] for v in detail}
    one = conn.block_storage.get_volume(in_use["id"])
    assert one.size == in_use["size"]
    assert one.project_id == alpha
    avail = [v.id for v in conn.block_storage.volumes(status="available")]
    assert avail
    assert all(sdk[v].status == "available" for v in avail)


def test_volume_paging(raw):
    everything = [v["id"] for v in raw.get("/volumes/detail").json()["volumes"]]
    seen, query, url = [], {"limit": 2}, "/volumes/detail"
    while True:
        page = raw.get(url, params=query).json()
        seen += [v["id"] for v in page["volumes"]]
        if "volumes_links" not in page:
            break
        url, query = page["volumes_links"][0]["href"], None
    assert seen == everything


def test_volume_create_and_delete(sim, conn, raw):
    vol = conn.block_storage.create_volume(size=3, name="new-vol", metadata={"a": "b"})
    assert vol.status == "creating"
    sim.advance(3.5)
    vol = conn.block_storage.get_volume(vol.id)
    assert (vol.status, vol.size, vol.name) == ("available", 3, "new-vol")
    snap = conn.block_storage.create_snapshot(volume_id=vol.id)
    r = raw.delete(f"/volumes/{vol.id}")
    assert r.status_code == 400
    sim.advance(3.5)
    r = raw.delete(f"/volumes/{vol.id}", params={"cascade": "true"})
    assert r.status_code == 202
    assert conn.block_storage.get_snapshot(snap.id).status == "deleting"
    sim.advance(2.5)
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.get_volume(vol.id)
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.get_snapshot(snap.id)


def test_in_use_volume_cannot_be_deleted(sim, raw):
    from cloudsim.tests.test_snapshots import attach

    vol = attach(sim, "alpha", sim.create_volume("alpha", size=1))
    assert raw.delete(f"/volumes/{vol['id']}").status_code == 400


def test_volume_from_snapshot(sim, raw):
    snap = sim.create_snapshot("alpha", status="available")
    r = raw.post("/volumes", json={"volume": {"snapshot_id": snap["id"], "name": "restored"}})
    assert r.status_code == 202
    assert r.json()["volume"]["size"] == snap["size"]
    busy = sim.create_snapshot("alpha", status="creating")
    r = raw.post("/volumes", json={"volume": {"snapshot_id": busy["id"]}})
    assert r.status_code == 400


def test_volume_create_validation(raw):
    assert raw.post("/volumes", json={"volume": {"size": 0}}).status_code == 400
    assert raw.post("/volumes", json={"volume": {"size": 1, "bogus": 1}}).status_code == 400
    assert raw.post("/volumes", json={"volume": {}}).status_code == 400


def test_limits(sim, raw, conn):
    before = raw.get("/limits").json()["limits"]["absolute"]
    for key in (
        "maxTotalSnapshots",
        "totalSnapshotsUsed",
        "maxTotalVolumeGigabytes",
        "totalGigabytesUsed",
    ):
        assert key in before
    vol = sim.create_volume("alpha", size=7)
    conn.block_storage.create_snapshot(volume_id=vol["id"])
    after = conn.block_storage.get_limits().absolute
    assert after.total_snapshots_used == before["totalSnapshotsUsed"] + 1
    assert after.total_gigabytes_used == before["totalGigabytesUsed"] + 14


def test_revert_to_latest_snapshot(sim, conn, raw):
    vol = sim.create_volume("alpha", size=4)
    old = sim.create_snapshot("alpha", volume_id=vol["id"], created_at="2024-01-01T00:00:00")
    new = sim.create_snapshot("alpha", volume_id=vol["id"], created_at="2024-02-01T00:00:00")
    path = f"/volumes/{vol['id']}/action"
    assert raw.post(path, json={"revert": {"snapshot_id": new["id"]}}, mv="3.39").status_code == 404
    assert raw.post(path, json={"revert": {"snapshot_id": old["id"]}}, mv="3.40").status_code == 400
    r = raw.post(path, json={"revert": {"snapshot_id": new["id"]}}, mv="3.40")
    assert r.status_code == 202
    assert conn.block_storage.get_volume(vol["id"]).status == "reverting"
    assert conn.block_storage.get_snapshot(new["id"]).status == "restoring"
    r = raw.post(path, json={"revert": {"snapshot_id": new["id"]}}, mv="3.40")
    assert r.status_code == 409
    assert r.json()["conflictingRequest"]["code"] == 409
    sim.advance(4)
    assert conn.block_storage.get_volume(vol["id"]).status == "available"
    assert conn.block_storage.get_snapshot(new["id"]).status == "available"
    bigger = sim.create_volume("alpha", size=8)
    small = sim.create_snapshot("alpha", volume_id=bigger["id"], size=4)
    r = raw.post(
        f"/volumes/{bigger['id']}/action", json={"revert": {"snapshot_id": small["id"]}}, mv="3.40"
    )
    assert r.status_code == 400


def test_volume_reset_status_is_admin_only(sim, raw, raw_admin):
    vol = sim.create_volume("alpha", size=1)
    body = {"os-reset_status": {"status": "error"}}
    assert raw.post(f"/volumes/{vol['id']}/action", json=body).status_code == 403
    assert raw_admin.post(f"/volumes/{vol['id']}/action", json=body).status_code == 202
    assert raw.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "error"
    body = {"os-reset_status": {"status": "in-use"}}
    assert raw_admin.post(f"/volumes/{vol['id']}/action", json=body).status_code == 400


def test_resource_filters(raw):
    """What the simulator advertises for snapshots is what a snapshot list takes from a
    non-admin: each advertised filter is accepted, any other is refused."""
    assert raw.get("/resource_filters", mv="3.32").status_code == 404
    r = raw.get("/resource_filters", params={"resource": "snapshot"}, mv="3.33")
    [entry] = r.json()["resource_filters"]
    assert entry["resource"] == "snapshot"
    assert {"name", "status", "volume_id", "metadata"} <= set(entry["filters"])
    values = {"metadata": "{'k': 'v'}", "consumes_quota": "true"}
    for name in entry["filters"]:
        params = {name: values.get(name, "x")}
        assert raw.get("/snapshots", params=params, mv="3.65").status_code == 200, name
    refused = raw.get("/snapshots", params={"display_description": "x"}, mv="3.65")
    assert refused.status_code == 400
    assert "Invalid filters display_description" in refused.text
    assert len(raw.get("/resource_filters", mv="3.33").json()["resource_filters"]) > 5
