"""The control API: faults, statistics, reset, clock, direct seeding, info."""

from __future__ import annotations

import time

import pytest
import requests
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions

from .conftest import make_conn


def test_error_rate_and_status(sim, raw):
    sim.faults(error_rate=1.0)
    r = raw.get("/snapshots")
    assert r.status_code == 500
    assert r.json()["computeFault"]["code"] == 500
    sim.faults(error_status=503)
    assert raw.get("/snapshots").status_code == 503
    assert requests.get(sim.url + "/volume/v3/", timeout=10).status_code == 200
    sim.clear_faults()
    assert raw.get("/snapshots").status_code == 200


def test_partial_error_rate(sim, raw):
    sim.faults(error_rate=0.5)
    codes = [raw.get("/snapshots", params={"limit": 1}).status_code for _ in range(40)]
    assert 5 <= codes.count(500) <= 35
    assert set(codes) == {200, 500}


def test_cinder_down(sim, raw, conn):
    sim.faults(cinder_down=True)
    r = raw.get("/snapshots")
    assert r.status_code == 503
    with pytest.raises(exceptions.HttpException) as info:
        list(conn.block_storage.snapshots())
    assert info.value.status_code == 503
    assert requests.post(sim.identity_url + "/auth/tokens", timeout=10).status_code != 503


def test_keystone_down(sim, raw):
    sim.faults(keystone_down=True)
    with pytest.raises(requests.HTTPError):
        sim.token("demo", "alpha")
    with pytest.raises((ks_exceptions.ServiceUnavailable, ks_exceptions.DiscoveryFailure)):
        make_conn(sim).block_storage.get_endpoint()
    assert raw.get("/snapshots").status_code == 200
    assert sim.get_faults()["keystone_down"] is True


def test_latency(sim, raw):
    def timed() -> float:
        t0 = time.perf_counter()
        assert raw.get("/snapshots", params={"limit": 1}).status_code == 200
        return time.perf_counter() - t0

    timed()  # warm the connection
    sim.faults(latency_ms=400)
    slow = timed()
    assert slow >= 0.4
    sim.faults(latency_ms=0)
    assert timed() < slow


def test_create_and_delete_error_rates(sim, conn):
    vol = sim.create_volume("alpha", size=1)
    sim.faults(create_error_rate=1.0)
    snap = conn.block_storage.create_snapshot(volume_id=vol["id"])
    sim.advance(4)
    assert conn.block_storage.get_snapshot(snap.id).status == "error"
    sim.faults(create_error_rate=0.0, delete_error_rate=1.0)
    conn.block_storage.delete_snapshot(snap.id)
    sim.advance(3)
    assert conn.block_storage.get_snapshot(snap.id).status == "error_deleting"


def test_stuck(sim, conn):
    vol = sim.create_volume("alpha", size=1)
    sim.faults(stuck=["creating", "deleting"])
    snap = conn.block_storage.create_snapshot(volume_id=vol["id"])
    other = sim.create_snapshot("alpha", status="available")
    conn.block_storage.delete_snapshot(other["id"])
    sim.advance(3600)
    assert conn.block_storage.get_snapshot(snap.id).status == "creating"
    assert conn.block_storage.get_snapshot(other["id"]).status == "deleting"
    sim.clear_faults()
    sim.advance(0.1)
    assert conn.block_storage.get_snapshot(snap.id).status == "available"
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.get_snapshot(other["id"])


def test_fault_validation(sim):
    r = requests.post(sim.url + "/_sim/faults", json={"nope": 1}, timeout=10)
    assert r.status_code == 400
    r = requests.post(sim.url + "/_sim/faults", json={"error_rate": 2}, timeout=10)
    assert r.status_code == 400
    assert sim.get_faults()["error_rate"] == 0


def test_stats(sim, raw, conn):
    sim.reset_stats()
    assert sim.stats()["total"] == 0 and sim.stats()["by_route"] == {}
    sid = raw.get("/snapshots", params={"limit": 1}).json()["snapshots"][0]["id"]
    raw.get(f"/snapshots/{sid}")
    raw.get(f"{sim.url}/volume/v3/snapshots/{sid}")
    raw.get("/snapshots/detail")
    sim.info()
    stats = sim.stats()
    assert stats["by_route"] == {
        "GET /volume/v3/{project_id}/snapshots": 1,
        "GET /volume/v3/{project_id}/snapshots/{snapshot_id}": 1,
        "GET /volume/v3/snapshots/{snapshot_id}": 1,
        "GET /volume/v3/{project_id}/snapshots/detail": 1,
    }
    assert stats["total"] == 4
    assert set(stats["seconds_by_route"]) == set(stats["by_route"])
    assert 0 < stats["seconds"] == pytest.approx(sum(stats["seconds_by_route"].values()), abs=1e-5)
    sim.reset_stats()
    list(conn.block_storage.snapshots(limit=1000))
    logged = [r for r in sim.requests() if r["route"].endswith("/snapshots/detail")]
    assert logged
    assert all(r["microversion"] == "volume 3.65" for r in logged)
    assert sim.stats()["by_route"]["GET /volume/v3/{project_id}/snapshots/detail"] == len(logged)
    assert "POST /identity/v3/auth/tokens" in sim.stats()["by_route"]


def test_reset_restores_the_start_state_fast(sim, conn):
    before = sorted(s.id for s in conn.block_storage.snapshots())
    victim = next(conn.block_storage.snapshots(status="available"))
    info = sim.info()
    vol = sim.create_volume("alpha", size=1)
    conn.block_storage.create_snapshot(volume_id=vol["id"])
    conn.block_storage.delete_snapshot(victim)
    sim.faults(error_rate=0.1, latency_ms=5)
    sim.advance(1000)
    t0 = time.perf_counter()
    sim.reset()
    assert time.perf_counter() - t0 < 0.2
    assert sim.stats()["total"] == 0
    assert sorted(s.id for s in conn.block_storage.snapshots()) == before
    assert sim.info()["volumes"] == info["volumes"]
    assert sim.get_faults()["error_rate"] == 0
    assert requests.get(sim.url + "/_sim/clock", timeout=10).json()["offset"] == 0


def test_demo_cloud_shape(sim, raw_admin):
    info = sim.info()
    assert set(info["projects"]) == {"alpha", "beta", "gamma"}
    assert set(info["users"]) >= {"demo", "admin", "auditor"}
    assert 10 <= len(info["volumes"]) <= 15
    assert sum(v["status"] == "error" for v in info["volumes"]) == 1
    assert any(v["status"] == "in-use" for v in info["volumes"])
    items = raw_admin.get("/snapshots/detail", params={"all_tenants": 1}).json()["snapshots"]
    assert 35 <= len(items) <= 45
    statuses = {s["status"] for s in items}
    assert {"available", "error", "error_deleting", "creating", "deleting"} <= statuses
    assert sum(s["status"] == "available" for s in items) > len(items) / 2
    assert any(s["metadata"] for s in items)
    # stuck ones stay where they are for good
    sim.advance(3000)
    later = raw_admin.get("/snapshots/detail", params={"all_tenants": 1}).json()["snapshots"]
    assert {s["status"] for s in later} >= {"creating", "deleting"}


def test_clock_moves_demo_transitions(sim, raw_admin):
    def count(status):
        return len(
            raw_admin.get("/snapshots", params={"all_tenants": 1, "status": status}).json()[
                "snapshots"
            ]
        )

    creating, deleting = count("creating"), count("deleting")
    sim.advance(1000)
    assert count("creating") < creating
    assert count("deleting") < deleting


def test_direct_volume_and_snapshot(sim, raw):
    vol = sim.create_volume("alpha", name="direct", size=42, status="in-use")
    assert (vol["status"], vol["size"], vol["name"]) == ("in-use", 42, "direct")
    assert raw.get(f"/volumes/{vol['id']}").json()["volume"]["status"] == "in-use"
    snap = sim.create_snapshot(
        sim.project_id("alpha"),
        volume_id=vol["id"],
        name="outside",
        status="error",
        created_at="2024-05-06T07:08:09",
        metadata={"from": "outside"},
    )
    got = raw.get(f"/snapshots/{snap['id']}").json()["snapshot"]
    assert got["status"] == "error"
    assert got["created_at"] == "2024-05-06T07:08:09.000000"
    assert got["metadata"] == {"from": "outside"}
    assert got["size"] == 42
    r = requests.post(sim.url + "/_sim/snapshots", json={"project": "nope"}, timeout=10)
    assert r.status_code == 400


def test_control_404(sim):
    assert requests.get(sim.url + "/_sim/nothing", timeout=10).status_code == 404
