"""How long concurrent audit writers hold the chain's lock, and how many events per second.

W threads (each its own database connection) write audit events the way an action does: one
transaction that records the event and then settles one more small row (as idempotency.finish
does). For each event it measures the wait for the chain lock, the hold (lock taken -> commit)
and the total throughput. It runs the current lock (a PostgreSQL advisory transaction lock) and,
for comparison, the previous one (get_or_create + SELECT ... FOR UPDATE of a lock row).

Run (PostgreSQL; the bench creates and drops its own test_<name> database):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/dashboard .venv/bin/python bench/bench_audit.py
Options: --writers 1,4,8  --events 200 (per writer)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def configure(tmp: str) -> None:
    os.environ.setdefault("DASHBOARD_VAR_DIR", tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def row_lock() -> None:
    """The chain lock before this change: a lock row every writer reads and locks."""
    from snapshots.models import WorkerLock

    WorkerLock.objects.get_or_create(name="audit-chain", defaults={"owner": "audit chain"})
    WorkerLock.objects.select_for_update().filter(name="audit-chain").first()


def run(writers: int, events: int, lock) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from snapshots.models import WorkerLock
    from snapshots.services import audit

    waits: list[float] = []
    holds: list[float] = []
    guard = threading.Lock()
    local = threading.local()
    real_lock = audit.lock_chain

    def timed_lock() -> None:
        asked = time.perf_counter()
        lock()
        local.acquired = time.perf_counter()
        local.waited = local.acquired - asked

    audit.lock_chain = timed_lock
    barrier = threading.Barrier(writers)

    def writer(n: int) -> None:
        name = f"bench-writer-{n}"
        WorkerLock.objects.get_or_create(name=name, defaults={"owner": name})
        barrier.wait()
        for i in range(events):
            with transaction.atomic():
                audit.record(scope=None, action="bench", outcome="success", message=f"{n}-{i}")
                WorkerLock.objects.filter(name=name).update(expires_at=timezone.now())
            released = time.perf_counter()
            with guard:
                waits.append(local.waited)
                holds.append(released - local.acquired)
        connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    audit.lock_chain = real_lock
    report = audit.verify_chain()
    assert report.ok, report

    def pct(values: list[float], p: float) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * p))] * 1000

    return {
        "events/s": len(holds) / elapsed,
        "hold p50 ms": statistics.median(holds) * 1000,
        "hold p95 ms": pct(holds, 0.95),
        "wait p50 ms": statistics.median(waits) * 1000,
        "wait p95 ms": pct(waits, 0.95),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", default="1,4,8")
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        configure(tmp)
        from django.db import connection

        from snapshots.services import audit

        if connection.vendor != "postgresql":
            print("bench_audit measures PostgreSQL locking: set DATABASE_URL=postgres://...")
            return 2
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            print(f"command: {' '.join(sys.argv)} (PostgreSQL, {args.events} events per writer)")
            locks = (("advisory lock", audit.lock_chain), ("lock row (before)", row_lock))
            for label, lock in locks:
                for writers in (int(w) for w in args.writers.split(",")):
                    figures = run(writers, args.events, lock)
                    shown = "  ".join(f"{k} {v:7.2f}" for k, v in figures.items())
                    print(f"{label:18} writers {writers:2}  {shown}")
        finally:
            connection.creation.destroy_test_db(
                connection.settings_dict["NAME"], verbosity=0, keepdb=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
