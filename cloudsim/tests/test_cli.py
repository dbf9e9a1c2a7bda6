"""Command-line options; each test starts its own short-lived simulator."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

from cloudsim.testing import start_simulator


def token(sim, user="demo", project="alpha", password="secret") -> requests.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    return requests.post(sim.identity_url + "/auth/tokens", json=body, timeout=10)


def test_seed_projects_spreads_the_snapshots_over_projects_of_their_own():
    with start_simulator("--seed-snapshots", "500", "--seed-projects", "50", seed="empty") as sim:
        tok = token(sim, "admin").headers["X-Subject-Token"]
        h = {"X-Auth-Token": tok, "OpenStack-API-Version": "volume 3.65"}
        api = f"{sim.url}/volume/v3/{sim.project_id('alpha')}/snapshots/detail"
        snapshots = requests.get(
            api, headers=h, params={"all_tenants": 1, "limit": 1000}, timeout=10
        ).json()["snapshots"]
        owners = {s["os-extended-snapshot-attributes:project_id"] for s in snapshots}
        assert len(snapshots) == 500 and len(owners) == 50
        projects = requests.get(
            sim.identity_url + "/projects", headers={"X-Auth-Token": tok}, timeout=10
        ).json()["projects"]
        bulk = {p["id"] for p in projects if p["name"].startswith("bulk-")}
        assert owners == bulk
        volumes = requests.get(
            api.replace("/snapshots/", "/volumes/"),
            headers=h,
            params={"all_tenants": 1, "limit": 1000},
            timeout=10,
        ).json()["volumes"]
        assert {s["volume_id"] for s in snapshots} <= {v["id"] for v in volumes}


def test_seed_snapshots_password_and_ttl(tmp_path):
    with start_simulator(
        "--seed-snapshots", "3000", "--password", "hunter2", "--token-ttl", "60", seed=None
    ) as sim:
        assert token(sim).status_code == 401
        r = token(sim, "admin", password="hunter2")
        assert r.status_code == 201
        tok = r.headers["X-Subject-Token"]
        api = f"{sim.url}/volume/v3/{sim.project_id('alpha')}/snapshots"
        h = {"X-Auth-Token": tok, "OpenStack-API-Version": "volume 3.65"}
        body = requests.get(
            api, headers=h, params={"all_tenants": 1, "with_count": 1, "limit": 5}, timeout=10
        ).json()
        assert body["count"] == 3000
        per_project = [
            requests.get(
                api,
                headers=h,
                params={"all_tenants": 1, "with_count": 1, "limit": 0, "project_id": pid},
                timeout=10,
            ).json()["count"]
            for pid in sim.info()["projects"].values()
        ]
        assert all(n > 500 for n in per_project)
        t0 = time.perf_counter()
        sim.reset()
        assert time.perf_counter() - t0 < 2
        sim.advance(61)
        assert requests.get(api, headers=h, timeout=10).status_code == 401


def test_empty_seed_has_identity_only():
    with start_simulator(seed="empty") as sim:
        info = sim.info()
        assert set(info["projects"]) == {"alpha", "beta", "gamma"}
        assert info["volumes"] == []
        assert info["snapshot_count"] == 0


def test_state_file_survives_a_restart(tmp_path):
    state = str(tmp_path / "cloud.sqlite")
    with start_simulator("--state", state) as sim:
        made = sim.create_snapshot("alpha", status="available", name="kept")
        count = sim.info()["snapshot_count"]
    with start_simulator("--state", state) as sim:
        assert sim.info()["snapshot_count"] == count
        tok = token(sim).headers["X-Subject-Token"]
        r = requests.get(
            f"{sim.url}/volume/v3/{sim.project_id('alpha')}/snapshots/{made['id']}",
            headers={"X-Auth-Token": tok},
            timeout=10,
        )
        assert r.json()["snapshot"]["name"] == "kept"


def test_listening_line_reports_the_real_port():
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloudsim", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("cloudsim listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        assert requests.get(f"http://127.0.0.1:{port}/volume", timeout=10).status_code == 300
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_latency_option():
    with start_simulator("--latency-ms", "200") as sim:
        assert sim.get_faults()["latency_ms"] == 200
        t0 = time.perf_counter()
        requests.get(sim.url + "/volume/v3/", timeout=10)
        assert time.perf_counter() - t0 >= 0.2
        sim.reset()
        assert sim.get_faults()["latency_ms"] == 200


def test_like_filters_option():
    with start_simulator("--like-filters") as sim:
        tok = token(sim).headers["X-Subject-Token"]
        base = f"{sim.url}/volume/v3/{sim.project_id('alpha')}"
        h = {"X-Auth-Token": tok, "OpenStack-API-Version": "volume 3.34"}
        r = requests.get(base + "/snapshots", headers=h, params={"name~": "db"}, timeout=10)
        assert r.status_code == 200
        names = [s["name"] for s in r.json()["snapshots"]]
        assert names
        assert all("db" in n for n in names)
        r = requests.get(
            base + "/resource_filters", headers=h, params={"resource": "snapshot"}, timeout=10
        )
        assert "name~" in r.json()["resource_filters"][0]["filters"]
