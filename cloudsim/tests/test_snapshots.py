"""Snapshot create, update, delete: body validation, volume checks, quota, the status machine."""

from __future__ import annotations

import uuid

import pytest
import requests
from openstack import exceptions


def volume(sim, project="alpha", status="available", **kw):
    if status == "in-use":  # attached the way Nova does it: reserve, then complete
        vol = sim.create_volume(project, name="vol-in-use", size=kw.pop("size", 10), **kw)
        return attach(sim, project, vol)
    return sim.create_volume(
        project, name=f"vol-{status}", size=kw.pop("size", 10), status=status, **kw
    )


def attach(sim, project: str, vol: dict) -> dict:
    base = sim.volume_endpoint(project)
    headers = {"X-Auth-Token": sim.token("demo", project), "OpenStack-API-Version": "volume 3.44"}
    made = requests.post(
        f"{base}/attachments",
        json={"attachment": {"volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4())}},
        headers=headers,
        timeout=30,
    ).json()["attachment"]
    done = requests.post(
        f"{base}/attachments/{made['id']}/action",
        json={"os-complete": made["id"]},
        headers=headers,
        timeout=30,
    )
    assert done.status_code == 204
    return {**vol, "status": "in-use"}


def create(raw, body, mv="3.65"):
    return raw.post("/snapshots", mv=mv, json=body)


def test_create_returns_202_creating_then_available(sim, conn):
    vol = volume(sim)
    snap = conn.block_storage.create_snapshot(
        volume_id=vol["id"], name="  nightly  ", description=" d ", metadata={"a/b": "1"}
    )
    assert snap.status == "creating"
    assert snap.name == "nightly"
    assert snap.description == "d"
    assert snap.size == 10
    assert snap.metadata == {"a/b": "1"}
    assert snap.user_id == sim.user_id("demo")
    fetched = conn.block_storage.get_snapshot(snap.id)
    assert fetched.status == "creating"
    assert fetched.progress.endswith("%")
    assert int(fetched.progress[:-1]) < 100
    sim.advance(1.5)
    mid = conn.block_storage.get_snapshot(snap.id)
    assert 30 <= int(mid.progress[:-1]) <= 95
    sim.advance(2)
    done = conn.block_storage.get_snapshot(snap.id)
    assert (done.status, done.progress) == ("available", "100%")
    assert done.updated_at is not None
    assert done.project_id == sim.project_id("alpha")


def test_create_status_code_and_display_name_alias(sim, raw):
    vol = volume(sim)
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "display_name": "alias"}})
    assert r.status_code == 202
    assert r.json()["snapshot"]["name"] == "alias"
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "display_name": "b", "name": "a"}})
    assert r.json()["snapshot"]["name"] == "a"


def test_name_may_contain_newline(sim, raw):
    vol = volume(sim)
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "name": "a\nb"}})
    assert r.status_code == 202
    assert r.json()["snapshot"]["name"] == "a\nb"


@pytest.mark.parametrize(
    "extra",
    [
        {"bogus": 1},
        {"display_description": "x"},
        {"name": "n" * 256},
        {"display_name": "n" * 256},
        {"description": "d" * 256},
        {"description": "line\nbreak"},
        {"description": "tab\there"},
        {"name": 5},
        {"metadata": {"bad@key": "v"}},
        {"metadata": {"k=v": "v"}},
        {"metadata": {"clé": "v"}},
        {"metadata": {"k" * 256: "v"}},
        {"metadata": {"k": "v" * 256}},
        {"metadata": {"k": 1}},
        {"metadata": ["k"]},
        {"force": "maybe"},
        {"force": 1},
    ],
)
def test_create_body_rules(sim, raw, extra):
    vol = volume(sim)
    r = create(raw, {"snapshot": {"volume_id": vol["id"], **extra}})
    assert r.status_code == 400, r.text
    assert r.json()["badRequest"]["code"] == 400


def test_create_envelope_rules(sim, raw):
    vol = volume(sim)
    assert create(raw, {"snapshot": {"volume_id": vol["id"]}, "x": 1}).status_code == 400
    assert create(raw, {"snapshot": {}}).status_code == 400
    assert create(raw, {}).status_code == 400
    assert create(raw, {"snapshot": {"volume_id": "not-a-uuid"}}).status_code == 400
    ok = {"volume_id": vol["id"], "description": "d" * 255, "name": "n" * 255}
    assert create(raw, {"snapshot": ok}).status_code == 202
    meta = {"volume_id": vol["id"], "metadata": {"a-_:. /Z9": "v" * 255}}
    assert create(raw, {"snapshot": meta}).status_code == 202
    assert create(raw, {"snapshot": {"volume_id": vol["id"], "metadata": None}}).status_code == 202


def test_unknown_or_foreign_volume_is_404(sim, raw):
    r = create(raw, {"snapshot": {"volume_id": "6f1c9a4e-0000-4000-8000-000000000000"}})
    assert r.status_code == 404
    assert r.json()["itemNotFound"]["code"] == 404
    foreign = volume(sim, "gamma")
    assert create(raw, {"snapshot": {"volume_id": foreign["id"]}}).status_code == 404
    assert create(raw, {"snapshot": {"volume_id": None}}).status_code == 404


@pytest.mark.parametrize("value", [True, "true", "True", "1", "yes", "on", "y", "t", "ON"])
def test_force_true_spellings_allow_in_use_before_3_66(sim, raw, value):
    vol = volume(sim, status="in-use")
    assert create(raw, {"snapshot": {"volume_id": vol["id"], "force": value}}).status_code == 202


def test_in_use_volume_rules(sim, raw, conn):
    vol = volume(sim, status="in-use")
    r = create(raw, {"snapshot": {"volume_id": vol["id"]}})
    assert r.status_code == 400
    assert "in-use" in r.json()["badRequest"]["message"]
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "force": False}})
    assert r.status_code == 400
    assert create(raw, {"snapshot": {"volume_id": vol["id"]}}, mv="3.66").status_code == 202
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "force": True}}, mv="3.66")
    assert r.status_code == 202
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "force": "false"}}, mv="3.66")
    assert r.status_code == 400
    with pytest.raises(exceptions.BadRequestException):
        conn.block_storage.create_snapshot(volume_id=vol["id"])
    snap = conn.block_storage.create_snapshot(volume_id=vol["id"], is_forced=True)
    assert snap.status == "creating"


@pytest.mark.parametrize("status", ["error", "creating", "maintenance", "deleting", "attaching"])
def test_volume_in_wrong_state_is_400(sim, raw, status):
    vol = volume(sim, status=status)
    r = create(raw, {"snapshot": {"volume_id": vol["id"], "force": True}})
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"].startswith("Invalid volume")


def test_unscheduled_or_migrating_volume_is_400(sim, raw):
    vol = volume(sim, host=None)
    assert create(raw, {"snapshot": {"volume_id": vol["id"]}}).status_code == 400
    vol = volume(sim, migration_status="migrating")
    assert create(raw, {"snapshot": {"volume_id": vol["id"]}}).status_code == 400


def test_quota_413(sim, raw, conn):
    vol = volume(sim)
    used = conn.block_storage.get_limits().absolute.total_snapshots_used
    sim.set_quota("alpha", snapshots=used + 1)
    assert create(raw, {"snapshot": {"volume_id": vol["id"]}}).status_code == 202
    r = create(raw, {"snapshot": {"volume_id": vol["id"]}})
    assert r.status_code == 413
    assert r.headers["Retry-After"] == "0"
    assert r.json()["overLimit"]["code"] == 413
    assert "retryAfter" in r.json()["overLimit"]
    limits = conn.block_storage.get_limits().absolute
    assert limits.max_total_snapshots == used + 1
    assert limits.total_snapshots_used == used + 1
    with pytest.raises(exceptions.HttpException) as info:
        conn.block_storage.create_snapshot(volume_id=vol["id"])
    assert info.value.status_code == 413


def test_gigabytes_quota_413(sim, raw, conn):
    used = conn.block_storage.get_limits().absolute.total_gigabytes_used
    vol = volume(sim, size=50)
    sim.set_quota("alpha", gigabytes=used + 50 + 49)
    r = create(raw, {"snapshot": {"volume_id": vol["id"]}})
    assert r.status_code == 413
    assert r.json()["overLimit"]["code"] == 413


def test_update(sim, conn, raw):
    vol = volume(sim)
    snap = conn.block_storage.create_snapshot(volume_id=vol["id"], name="old")
    upd = conn.block_storage.update_snapshot(snap, name=" new ", description="desc")
    assert (upd.name, upd.description) == ("new", "desc")
    r = raw.put(f"/snapshots/{snap.id}", json={"snapshot": {"display_description": "dd"}})
    assert r.status_code == 200
    assert r.json()["snapshot"]["description"] == "dd"
    assert r.json()["snapshot"]["updated_at"] is not None
    r = raw.put(f"/snapshots/{snap.id}", json={"snapshot": {"name": None}})
    assert r.status_code == 200
    assert r.json()["snapshot"]["name"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"snapshot": {}},
        {"snapshot": {"metadata": {"a": "b"}}},
        {"snapshot": {"status": "available"}},
        {"snapshot": {"name": "x", "status": "error"}},
        {"snapshot": {"name": "n" * 256}},
        {"snapshot": {"description": "a\nb"}},
        {"snapshot": {"display_description": "a\tb"}},
        {"snap": {"name": "x"}},
        {"snapshot": {"name": "x"}, "extra": 1},
    ],
)
def test_update_body_rules(sim, raw, body):
    sid = raw.get("/snapshots", params={"limit": 1}).json()["snapshots"][0]["id"]
    r = raw.put(f"/snapshots/{sid}", json=body)
    assert r.status_code == 400, r.text


def test_update_unknown_is_404(raw):
    r = raw.put("/snapshots/6f1c9a4e-0000-4000-8000-000000000000", json={"snapshot": {"name": "x"}})
    assert r.status_code == 404


def test_delete_from_available_and_error(sim, conn, raw):
    vol = volume(sim)
    ok = sim.create_snapshot("alpha", volume_id=vol["id"], status="available")
    err = sim.create_snapshot("alpha", volume_id=vol["id"], status="error")
    for snap in (ok, err):
        r = raw.delete(f"/snapshots/{snap['id']}")
        assert r.status_code == 202
        assert r.content == b""
        assert raw.get(f"/snapshots/{snap['id']}").json()["snapshot"]["status"] == "deleting"
    sim.advance(2.5)
    for snap in (ok, err):
        assert raw.get(f"/snapshots/{snap['id']}").status_code == 404
        with pytest.raises(exceptions.NotFoundException):
            conn.block_storage.get_snapshot(snap["id"])


@pytest.mark.parametrize(
    "status",
    ["creating", "deleting", "error_deleting", "restoring", "backing-up", "unmanaging", "deleted"],
)
def test_delete_from_other_states_is_400(sim, raw, conn, status):
    snap = sim.create_snapshot("alpha", status=status)
    r = raw.delete(f"/snapshots/{snap['id']}")
    assert r.status_code == 400
    assert "must be available or error" in r.json()["badRequest"]["message"]
    with pytest.raises(exceptions.BadRequestException):
        conn.block_storage.delete_snapshot(snap["id"])


def test_delete_group_member_is_400(sim, raw):
    snap = sim.create_snapshot(
        "alpha", status="available", group_snapshot_id="0a1b2c3d-0000-4000-8000-000000000000"
    )
    assert raw.delete(f"/snapshots/{snap['id']}").status_code == 400


def test_wait_for_status_and_delete_through_sdk(sim, conn):
    vol = volume(sim)
    snap = conn.block_storage.create_snapshot(volume_id=vol["id"])
    sim.advance(3.5)
    snap = conn.block_storage.wait_for_status(snap, "available", interval=0.01, wait=5)
    assert snap.status == "available"
    conn.block_storage.delete_snapshot(snap)
    sim.advance(2.5)
    conn.block_storage.wait_for_delete(snap, interval=0.01, wait=5)


def test_show_unknown_is_404_envelope(raw):
    r = raw.get("/snapshots/6f1c9a4e-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert "could not be found" in r.json()["itemNotFound"]["message"]


def test_find_by_name_and_duplicates(sim, conn):
    one = sim.create_snapshot("alpha", name="unique-name")
    found = conn.block_storage.find_snapshot("unique-name", ignore_missing=False)
    assert found.id == one["id"]
    sim.create_snapshot("alpha", name="twice")
    sim.create_snapshot("alpha", name="twice")
    with pytest.raises(exceptions.DuplicateResource):
        conn.block_storage.find_snapshot("twice", ignore_missing=False)
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.find_snapshot("nothing-like-this", ignore_missing=False)


def test_summary_list_through_sdk(conn):
    items = list(conn.block_storage.snapshots(details=False))
    assert items
    assert all(s.progress is None and s.project_id is None for s in items)
    assert all(s.status for s in items)
