"""The six snapshot metadata endpoints and the four snapshot actions."""

from __future__ import annotations

import pytest
from openstack import exceptions


@pytest.fixture
def snap(sim):
    return sim.create_snapshot("alpha", status="available", metadata={"a": "1", "b": "2"})


def test_get_and_merge_through_sdk(conn, snap):
    got = conn.block_storage.fetch_snapshot_metadata(snap["id"])
    assert got.metadata == {"a": "1", "b": "2"}
    conn.block_storage.set_snapshot_metadata(snap["id"], c="3", a="x")
    assert conn.block_storage.get_snapshot(snap["id"]).metadata == {"a": "x", "b": "2", "c": "3"}
    conn.block_storage.delete_snapshot_metadata(snap["id"], keys=["a", "c"])
    assert conn.block_storage.get_snapshot(snap["id"]).metadata == {"b": "2"}
    conn.block_storage.delete_snapshot_metadata(snap["id"])
    assert conn.block_storage.get_snapshot(snap["id"]).metadata == {}


def test_replace_and_item_endpoints(raw, snap):
    base = f"/snapshots/{snap['id']}/metadata"
    r = raw.post(base, json={"metadata": {"c": "3"}})
    assert (r.status_code, r.json()) == (200, {"metadata": {"a": "1", "b": "2", "c": "3"}})
    r = raw.put(base, json={"metadata": {"z": "26"}})
    assert (r.status_code, r.json()) == (200, {"metadata": {"z": "26"}})
    assert raw.get(base).json() == {"metadata": {"z": "26"}}
    r = raw.get(base + "/z")
    assert (r.status_code, r.json()) == (200, {"meta": {"z": "26"}})
    assert raw.get(base + "/nope").status_code == 404
    r = raw.put(base + "/k 1", json={"meta": {"k 1": "v"}})
    assert (r.status_code, r.json()) == (200, {"meta": {"k 1": "v"}})
    r = raw.delete(base + "/z")
    assert (r.status_code, r.content) == (200, b"")
    assert raw.delete(base + "/z").status_code == 404
    assert raw.get(base).json() == {"metadata": {"k 1": "v"}}
    assert raw.put(base, json={"metadata": {}}).json() == {"metadata": {}}


def test_sdk_resource_item_methods(conn, snap):
    obj = conn.block_storage.get_snapshot(snap["id"])
    obj.set_metadata_item(conn.block_storage, "k", "v")
    assert obj.get_metadata_item(conn.block_storage, "k").metadata["k"] == "v"
    obj.replace_metadata(conn.block_storage, metadata={"only": "this"})
    assert conn.block_storage.get_snapshot(snap["id"]).metadata == {"only": "this"}


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("post", "", {"metadata": {"a/b": "1"}}),
        ("put", "", {"metadata": {"a/b": "1"}}),
        ("post", "", {"metadata": {"bad@": "1"}}),
        ("post", "", {"metadata": {"k": 1}}),
        ("post", "", {"metadata": {"k": "v" * 256}}),
        ("post", "", {"metadata": {"k" * 256: "v"}}),
        ("post", "", {"meta": {"k": "v"}}),
        ("post", "", {"metadata": "k"}),
        ("put", "/k", {"meta": {"other": "v"}}),
        ("put", "/k", {"meta": {"k": "v", "j": "w"}}),
        ("put", "/k", {"metadata": {"k": "v"}}),
    ],
)
def test_metadata_validation(raw, snap, method, suffix, body):
    r = getattr(raw, method)(f"/snapshots/{snap['id']}/metadata{suffix}", json=body)
    assert r.status_code == 400, r.text


def test_metadata_ignores_snapshot_status(sim, raw):
    snap = sim.create_snapshot("alpha", status="error_deleting")
    r = raw.post(f"/snapshots/{snap['id']}/metadata", json={"metadata": {"a": "b"}})
    assert r.status_code == 200


def test_metadata_of_unknown_snapshot_is_404(raw):
    r = raw.get("/snapshots/6f1c9a4e-0000-4000-8000-000000000000/metadata")
    assert r.status_code == 404


# -- actions ---------------------------------------------------------------------------------


def action(raw, sid, body, mv="3.65"):
    return raw.post(f"/snapshots/{sid}/action", json=body, mv=mv)


@pytest.mark.parametrize("status", ["error", "AVAILABLE", "Error_Deleting", "deleted", "creating"])
def test_reset_status(sim, raw_admin, admin_conn, status):
    snap = sim.create_snapshot("alpha", status="available")
    r = action(raw_admin, snap["id"], {"os-reset_status": {"status": status}})
    assert (r.status_code, r.content) == (202, b"")
    got = admin_conn.block_storage.get_snapshot(snap["id"])
    assert got.status == status.lower()


def test_reset_status_does_not_move_with_time(sim, admin_conn):
    snap = sim.create_snapshot("alpha", status="available")
    admin_conn.block_storage.reset_snapshot_status(snap["id"], "deleting")
    sim.advance(60)
    assert admin_conn.block_storage.get_snapshot(snap["id"]).status == "deleting"


@pytest.mark.parametrize(
    "body", [{"status": "bogus"}, {"status": ""}, {}, {"status": "error", "x": 1}]
)
def test_reset_status_invalid(sim, raw_admin, body):
    snap = sim.create_snapshot("alpha", status="available")
    assert action(raw_admin, snap["id"], {"os-reset_status": body}).status_code == 400


def test_update_snapshot_status_transitions(sim, conn, raw):
    snap = sim.create_snapshot("alpha", status="creating")
    conn.block_storage.set_snapshot_status(snap["id"], "creating", "50%")
    got = conn.block_storage.get_snapshot(snap["id"])
    assert (got.status, got.progress) == ("creating", "50%")
    conn.block_storage.set_snapshot_status(snap["id"], "available", "100%")
    assert conn.block_storage.get_snapshot(snap["id"]).status == "available"
    r = action(raw, snap["id"], {"os-update_snapshot_status": {"status": "creating"}})
    assert r.status_code == 400
    assert "not allowed for update_snapshot_status" in r.json()["badRequest"]["message"]

    snap2 = sim.create_snapshot("alpha", status="creating")
    assert (
        action(raw, snap2["id"], {"os-update_snapshot_status": {"status": "error"}}).status_code
        == 202
    )
    assert conn.block_storage.get_snapshot(snap2["id"]).status == "error"

    snap3 = sim.create_snapshot("alpha", status="deleting")
    r = action(raw, snap3["id"], {"os-update_snapshot_status": {"status": "available"}})
    assert r.status_code == 400
    for target in ("deleting", "error_deleting"):
        r = action(raw, snap3["id"], {"os-update_snapshot_status": {"status": target}})
        assert r.status_code == 202
    assert conn.block_storage.get_snapshot(snap3["id"]).status == "error_deleting"


@pytest.mark.parametrize("current", ["available", "error", "error_deleting", "restoring"])
def test_update_snapshot_status_from_stable_states_is_400(sim, raw, current):
    snap = sim.create_snapshot("alpha", status=current)
    r = action(raw, snap["id"], {"os-update_snapshot_status": {"status": "error"}})
    assert r.status_code == 400


def test_update_snapshot_status_is_case_sensitive(sim, raw):
    snap = sim.create_snapshot("alpha", status="creating")
    r = action(raw, snap["id"], {"os-update_snapshot_status": {"status": "AVAILABLE"}})
    assert r.status_code == 400


@pytest.mark.parametrize("progress", ["101%", "-1%", "50", "abc%", "5O%", 50, "50%%"])
def test_update_snapshot_status_progress_format(sim, raw, progress):
    snap = sim.create_snapshot("alpha", status="creating")
    body = {"os-update_snapshot_status": {"status": "creating", "progress": progress}}
    assert action(raw, snap["id"], body).status_code == 400


@pytest.mark.parametrize("progress", ["0%", "100%", "7%"])
def test_update_snapshot_status_progress_accepted(sim, raw, progress):
    snap = sim.create_snapshot("alpha", status="creating")
    body = {"os-update_snapshot_status": {"status": "creating", "progress": progress}}
    assert action(raw, snap["id"], body).status_code == 202
    got = raw.get(f"/snapshots/{snap['id']}").json()["snapshot"]
    assert got["os-extended-snapshot-attributes:progress"] == progress


def test_update_snapshot_status_takes_over_a_running_create(sim, conn):
    vol = sim.create_volume("alpha", size=5)
    snap = conn.block_storage.create_snapshot(volume_id=vol["id"])
    conn.block_storage.set_snapshot_status(snap, "creating", "10%")
    sim.advance(10)
    got = conn.block_storage.get_snapshot(snap.id)
    assert (got.status, got.progress) == ("creating", "10%")


def test_force_delete_from_any_state(sim, admin_conn, raw_admin):
    for status in ("error_deleting", "creating", "deleting", "restoring"):
        snap = sim.create_snapshot("alpha", status=status)
        admin_conn.block_storage.delete_snapshot(snap["id"], force=True)
        assert admin_conn.block_storage.get_snapshot(snap["id"]).status == "deleting"
    snap = sim.create_snapshot("alpha", status="error")
    assert action(raw_admin, snap["id"], {"os-force_delete": {}}).status_code == 202
    sim.advance(3)
    with pytest.raises(exceptions.NotFoundException):
        admin_conn.block_storage.get_snapshot(snap["id"])


def test_force_delete_group_member_is_400(sim, raw_admin):
    snap = sim.create_snapshot(
        "alpha", status="error", group_snapshot_id="0a1b2c3d-0000-4000-8000-000000000000"
    )
    assert action(raw_admin, snap["id"], {"os-force_delete": None}).status_code == 400


def test_unmanage(sim, admin_conn, raw_admin):
    snap = sim.create_snapshot("alpha", status="available")
    admin_conn.block_storage.unmanage_snapshot(snap["id"])
    assert admin_conn.block_storage.get_snapshot(snap["id"]).status == "unmanaging"
    sim.advance(3)
    with pytest.raises(exceptions.NotFoundException):
        admin_conn.block_storage.get_snapshot(snap["id"])
    bad = sim.create_snapshot("alpha", status="creating")
    assert action(raw_admin, bad["id"], {"os-unmanage": {}}).status_code == 400
    err = sim.create_snapshot("alpha", status="error")
    assert action(raw_admin, err["id"], {"os-unmanage": None}).status_code == 202


def test_unknown_or_malformed_action(sim, raw_admin):
    snap = sim.create_snapshot("alpha", status="available")
    assert action(raw_admin, snap["id"], {"os-bogus": {}}).status_code == 400
    assert action(raw_admin, snap["id"], []).status_code == 400
    r = action(raw_admin, "6f1c9a4e-0000-4000-8000-000000000000", {"os-force_delete": {}})
    assert r.status_code == 404
