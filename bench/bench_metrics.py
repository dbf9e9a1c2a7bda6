"""Server time of /metrics with 100,000 snapshots over 10,000 projects in the mirror.

Rows are bulk-inserted into a throw-away database; /metrics is requested in-process through
Django's test client from an allowed address. The scrape reads the mirror only: the bench
checks that no cloud call was counted while it ran.

Run:
  .venv/bin/python bench/bench_metrics.py
  DATABASE_URL=postgres://user:pw@127.0.0.1/dashboard .venv/bin/python bench/bench_metrics.py
Options: --snapshots N (100000), --projects P (10000), --changes C (50000), --rounds R (30)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from bench_list import STATUSES, configure, percentile, scratch_database  # noqa: E402

TARGET_MS = 200


def seed(count: int, projects: int, changes: int) -> None:
    from django.db import transaction

    from snapshots.models import CloudState, Heartbeat, Snapshot, StatusChange

    rnd = random.Random(7)
    now = datetime.now(UTC)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    ids = []
    with transaction.atomic():
        batch: list[Snapshot] = []
        for i in range(count):
            status = rnd.choice(statuses)
            created = now - timedelta(seconds=rnd.randrange(365 * 86400))
            sid = str(uuid.UUID(int=rnd.getrandbits(128)))
            ids.append(sid)
            batch.append(
                Snapshot(
                    id=sid,
                    project_id=f"project-{i % projects:05d}",
                    name=f"nightly-{i:06d}",
                    status=status,
                    size=rnd.choice([1, 5, 10, 20, 50, 100]),
                    volume_id=str(uuid.UUID(int=rnd.getrandbits(128))),
                    created_at=created,
                    status_since=created,
                    stuck_since=created if status == "creating" and i % 3 == 0 else None,
                    next_check_at=now + timedelta(seconds=rnd.randrange(-60, 60)),
                    deleted_at=now if i % 50 == 0 else None,
                )
            )
            if len(batch) == 5000:
                Snapshot.objects.bulk_create(batch)
                batch = []
        Snapshot.objects.bulk_create(batch)
        history = [
            StatusChange(
                snapshot_id=ids[rnd.randrange(count)],
                project_id="p",
                from_status="creating",
                to_status=rnd.choice(["available", "available", "error", "error_deleting"]),
                observed_at=now,
                source="track",
            )
            for _ in range(changes)
        ]
        StatusChange.objects.bulk_create(history, batch_size=5000)
    CloudState.objects.update_or_create(id=1, defaults={"last_sync_ok_at": now})
    for name in ("worker", "beat"):
        Heartbeat.objects.create(name=name, beat_at=now)


def cloud_calls() -> float:
    from prometheus_client import REGISTRY

    return sum(
        s.value
        for family in REGISTRY.collect()
        if family.name == "snapshot_dashboard_cloud_requests"
        for s in family.samples
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    command = " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv])

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        configure(tmp)
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        vendor = connection.vendor
        failed = False
        with scratch_database():
            started = time.perf_counter()
            seed(args.snapshots, args.projects, args.changes)
            if vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            seeded = time.perf_counter() - started
            print(
                f"# bench_metrics: {args.snapshots} snapshots, {args.projects} projects, "
                f"{args.changes} status changes, {vendor}, seeded in {seeded:.1f} s"
            )
            print(f"# command: {command}")
            print(f"# target: p95 < {TARGET_MS} ms, no cloud call")
            print(f"# load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            print(
                f"{'per project':<12} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
                f"{'cpu p50':>8} {'cpu p95':>8} {'series':>7} {'KiB':>6}"
            )
            calls = cloud_calls()
            for per_project in (True, False):
                settings.METRICS_PER_PROJECT = per_project
                client = Client()
                for _ in range(2):
                    response = client.get("/metrics")
                    assert response.status_code == 200, response.status_code
                # Wall-clock and CPU time of this process (the database is in-process with
                # SQLite): CPU shows the scrape's own cost when other programs share the cores.
                times, cpu = [], []
                for _ in range(args.rounds):
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.get("/metrics")
                    times.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                body = response.content
                series = sum(
                    1
                    for line in body.splitlines()
                    if line.startswith(b"snapshot_dashboard_snapshots{")
                )
                p50, p95 = statistics.median(times), percentile(times, 95)
                failed |= p95 >= TARGET_MS
                print(
                    f"{per_project!s:<12} {p50:7.1f} {p95:7.1f} {max(times):7.1f} "
                    f"{statistics.median(cpu):8.1f} {percentile(cpu, 95):8.1f} "
                    f"{series:7d} {len(body) / 1024:6.0f}"
                )
            no_calls = cloud_calls() == calls
            failed |= not no_calls
            print(f"# cloud calls during the scrapes: {'none' if no_calls else 'SOME'}")
            print("# result:", "over target" if failed else "within target")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
