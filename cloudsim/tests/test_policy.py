"""Default Cinder policy per role: reader, member, admin; project scoping (404, not 403)."""

from __future__ import annotations

import pytest
from openstack import exceptions

from .conftest import Raw


def action(raw, sid, body):
    return raw.post(f"/snapshots/{sid}/action", json=body)


@pytest.fixture
def target(sim):
    return sim.create_snapshot("alpha", status="available", metadata={"k": "v"})


def test_reader_reads(sim, reader_conn, target):
    assert any(s.id == target["id"] for s in reader_conn.block_storage.snapshots())
    got = reader_conn.block_storage.get_snapshot(target["id"])
    assert got.project_id == sim.project_id("alpha")
    assert got.progress == "100%"
    assert reader_conn.block_storage.fetch_snapshot_metadata(target["id"]).metadata == {"k": "v"}
    assert list(reader_conn.block_storage.volumes())
    assert reader_conn.block_storage.get_limits().absolute.max_total_snapshots > 0


def test_reader_writes_are_403(sim, raw_reader, target):
    vol = sim.create_volume("alpha", size=1)
    sid = target["id"]
    calls = [
        raw_reader.post("/snapshots", json={"snapshot": {"volume_id": vol["id"]}}),
        raw_reader.put(f"/snapshots/{sid}", json={"snapshot": {"name": "x"}}),
        raw_reader.delete(f"/snapshots/{sid}"),
        raw_reader.post(f"/snapshots/{sid}/metadata", json={"metadata": {"a": "b"}}),
        raw_reader.put(f"/snapshots/{sid}/metadata", json={"metadata": {"a": "b"}}),
        raw_reader.put(f"/snapshots/{sid}/metadata/k", json={"meta": {"k": "b"}}),
        raw_reader.delete(f"/snapshots/{sid}/metadata/k"),
        action(raw_reader, sid, {"os-update_snapshot_status": {"status": "error"}}),
        action(raw_reader, sid, {"os-reset_status": {"status": "error"}}),
        action(raw_reader, sid, {"os-force_delete": {}}),
        action(raw_reader, sid, {"os-unmanage": {}}),
        raw_reader.post("/volumes", json={"volume": {"size": 1}}),
        raw_reader.delete(f"/volumes/{vol['id']}"),
    ]
    for r in calls:
        assert r.status_code == 403, (r.request.method, r.request.url, r.text)
        assert r.json()["forbidden"]["code"] == 403
    assert sim.info()["snapshot_count"] > 0


def test_reader_through_sdk(sim, reader_conn, target):
    vol = sim.create_volume("alpha", size=1)
    with pytest.raises(exceptions.ForbiddenException):
        reader_conn.block_storage.create_snapshot(volume_id=vol["id"])
    with pytest.raises(exceptions.ForbiddenException):
        reader_conn.block_storage.delete_snapshot(target["id"])


def test_member_may_crud_but_not_admin_actions(sim, raw, conn, target):
    sid = target["id"]
    assert raw.put(f"/snapshots/{sid}", json={"snapshot": {"name": "m"}}).status_code == 200
    assert raw.post(f"/snapshots/{sid}/metadata", json={"metadata": {"a": "b"}}).status_code == 200
    for body in (
        {"os-reset_status": {"status": "error"}},
        {"os-force_delete": {}},
        {"os-unmanage": {}},
    ):
        r = action(raw, sid, body)
        assert r.status_code == 403
        assert r.json()["forbidden"]["code"] == 403
    with pytest.raises(exceptions.ForbiddenException):
        conn.block_storage.reset_snapshot_status(sid, "error")
    with pytest.raises(exceptions.ForbiddenException):
        conn.block_storage.delete_snapshot(sid, force=True)
    with pytest.raises(exceptions.ForbiddenException):
        conn.block_storage.unmanage_snapshot(sid)
    creating = sim.create_snapshot("alpha", status="creating")
    assert (
        action(
            raw, creating["id"], {"os-update_snapshot_status": {"status": "available"}}
        ).status_code
        == 202
    )
    assert raw.delete(f"/snapshots/{sid}").status_code == 202


def test_other_projects_objects_are_404_for_members(sim, raw):
    foreign = sim.create_snapshot("gamma", status="available")
    sid = foreign["id"]
    calls = [
        raw.get(f"/snapshots/{sid}"),
        raw.put(f"/snapshots/{sid}", json={"snapshot": {"name": "x"}}),
        raw.delete(f"/snapshots/{sid}"),
        raw.get(f"/snapshots/{sid}/metadata"),
        raw.post(f"/snapshots/{sid}/metadata", json={"metadata": {"a": "b"}}),
        action(raw, sid, {"os-update_snapshot_status": {"status": "error"}}),
        raw.get("/snapshots", params={"marker": sid}),
    ]
    for r in calls:
        assert r.status_code == 404, (r.request.method, r.request.url)
        assert r.json()["itemNotFound"]["code"] == 404
    vol = next(v for v in sim.info()["volumes"] if v["project_id"] == sim.project_id("gamma"))
    assert raw.get(f"/volumes/{vol['id']}").status_code == 404
    assert sid not in [s["id"] for s in raw.get("/snapshots").json()["snapshots"]]


def test_member_of_beta_sees_beta_only(sim):
    beta = Raw(sim, "demo", "beta")
    items = beta.get("/snapshots/detail").json()["snapshots"]
    assert items
    assert {s["os-extended-snapshot-attributes:project_id"] for s in items} == {
        sim.project_id("beta")
    }


def test_admin_acts_on_any_project(sim, raw_admin, admin_conn):
    foreign = sim.create_snapshot("gamma", status="error_deleting")
    got = admin_conn.block_storage.get_snapshot(foreign["id"])
    assert got.project_id == sim.project_id("gamma")
    admin_conn.block_storage.reset_snapshot_status(foreign["id"], "error")
    assert admin_conn.block_storage.get_snapshot(foreign["id"]).status == "error"
    assert (
        raw_admin.put(
            f"/snapshots/{foreign['id']}", json={"snapshot": {"name": "by-admin"}}
        ).status_code
        == 200
    )
    vol = sim.create_volume("gamma", size=2)
    r = raw_admin.post("/snapshots", json={"snapshot": {"volume_id": vol["id"]}})
    assert r.status_code == 202
    assert raw_admin.get(f"/volumes/{vol['id']}").status_code == 200
    assert raw_admin.delete(f"/snapshots/{foreign['id']}").status_code == 202


def test_auditor_reads_every_project_it_has_a_role_on(sim):
    for project in ("alpha", "beta", "gamma"):
        assert Raw(sim, "auditor", project).get("/snapshots").status_code == 200
