"""Benchmark of the simulator: seeding 100,000 snapshots and the admin all-projects detail list.

Run: .venv/bin/python bench/bench_cloudsim.py [--snapshots N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cloudsim.testing import start_simulator


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    command = " ".join([os.path.relpath(sys.executable), *sys.argv])
    started = time.perf_counter()
    sim = start_simulator("--seed-snapshots", str(args.snapshots), seed=None, timeout=120)
    seeded = time.perf_counter() - started
    try:
        token = sim.token("admin", "alpha")
        pid = sim.project_id("alpha")
        url = f"{sim.url}/volume/v3/{pid}/snapshots/detail"
        headers = {"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.65"}
        params = {"limit": "1000", "all_tenants": "1"}
        http = requests.Session()
        first = http.get(url, headers=headers, params=params, timeout=60)
        first.raise_for_status()
        assert len(first.json()["snapshots"]) == 1000
        times = []
        marker = None
        for _ in range(args.rounds):
            query = dict(params)
            if marker:
                query["marker"] = marker
            t0 = time.perf_counter()
            resp = http.get(url, headers=headers, params=query, timeout=60)
            times.append(time.perf_counter() - t0)
            resp.raise_for_status()
            page = resp.json()["snapshots"]
            marker = page[-1]["id"] if page else None
        # every page to the end, as a full sync would do
        t0 = time.perf_counter()
        total, marker, pages = 0, None, 0
        while True:
            query = dict(params)
            if marker:
                query["marker"] = marker
            body = http.get(url, headers=headers, params=query, timeout=60).json()
            pages += 1
            total += len(body["snapshots"])
            if not body["snapshots"] or "snapshots_links" not in body:
                break
            marker = body["snapshots"][-1]["id"]
        full = time.perf_counter() - t0
    finally:
        sim.stop()

    print(f"command: {command}")
    print(f"seed {args.snapshots} snapshots: {seeded:.1f} s (process start included)")
    print(
        f"GET /volume/v3/{{p}}/snapshots/detail?limit=1000&all_tenants=1 as admin, "
        f"{args.rounds} rounds: p50 {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {percentile(times, 95) * 1000:.0f} ms"
    )
    print(f"page through all {total} snapshots ({pages} requests): {full:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
