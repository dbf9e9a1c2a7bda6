"""Where a page's time goes, per page type of `make load`, with 100,000 snapshots in the mirror:
server wall and CPU time in-process (Django's test client: no network, no gunicorn), SQL
queries and their time, the session's share of them, COUNT queries, and for the list page the
functions that take the most time (cProfile), grouped into SQL, templates, tables and the rest.

Run:
  .venv/bin/python bench/load/pages.py                            # SQLite (a temporary file)
  DATABASE_URL=postgres://user:pw@127.0.0.1/dashboard .venv/bin/python bench/load/pages.py
Options: --snapshots N (100000), --rounds R (20)
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_list", ROOT / "bench" / "bench_list.py")
bench_list = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_list)


def pages(snapshot_id: str) -> dict[str, str]:
    return {
        "list": "/snapshots/",
        "list page n": "/snapshots/?page=200",
        "list filtered/sorted": "/snapshots/?status=error&sort=-size",
        "detail": f"/snapshots/{snapshot_id}/",
        "audit log": "/snapshots/audit/",
        "history": "/snapshots/history/",
        "overview": "/snapshots/overview/",
        "export": "/snapshots/?export=csv&status=error",
        "live": f"/snapshots/live/?row={snapshot_id}:0",
    }


def measure(client, url: str, rounds: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        client.get(url)
    wall, cpu, queries, sql_ms, session, counts = [], [], [], [], [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code in (200, 204, 286), (url, response.status_code)
        sqls = captured.captured_queries
        queries.append(len(sqls))
        sql_ms.append(sum(float(q["time"]) for q in sqls) * 1000)
        session.append(sum("django_session" in q["sql"] for q in sqls))
        counts.append(sum("COUNT(" in q["sql"].upper() for q in sqls))
    return {
        "wall": statistics.median(wall),
        "cpu": statistics.median(cpu),
        "queries": statistics.median(queries),
        "sql": statistics.median(sql_ms),
        "session": statistics.median(session),
        "counts": statistics.median(counts),
    }


GROUPS = {
    "SQL (driver + ORM compile)": ("django/db/", "psycopg", "sqlite3"),
    "templates": ("django/template/",),
    "tables/filters": ("django_tables2", "django_filters", "snapshots/tables", "snapshots/filters"),
    "sessions/auth/middleware": ("django/contrib/sessions", "django/contrib/auth", "middleware"),
}


def profile(client, url: str, rounds: int) -> list[tuple[str, float]]:
    """Own time (tottime) of the list page's functions, grouped; seconds per request."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    totals = dict.fromkeys([*GROUPS, "other"], 0.0)
    for (filename, _, _), (_, _, tottime, _, _) in stats.items():
        group = next((g for g, keys in GROUPS.items() if any(k in filename for k in keys)), "other")
        totals[group] += tottime
    return [(group, seconds / rounds * 1000) for group, seconds in totals.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-pages-")
    bench_list.configure(tmp)
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.test.utils import get_runner

    runner = get_runner(settings)(verbosity=0)
    old = runner.setup_databases()
    try:
        started = time.monotonic()
        bench_list.seed(args.snapshots, 20)
        bench_list.users()
        from snapshots.models import Snapshot

        snapshot_id = Snapshot.objects.values_list("id", flat=True).first()
        print(f"bench/load/pages.py: {' '.join(sys.argv[1:]) or '(defaults)'}")
        print(
            f"{args.snapshots} snapshots seeded in {time.monotonic() - started:.0f} s on "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; admin (every "
            f"project); median of {args.rounds} requests, in-process"
        )
        client = bench_list.client_for("admin")
        head = ("wall ms", "CPU ms", "queries", "SQL ms", "session", "COUNTs")
        print(f"  {'page':22}" + "".join(f" {h:>8}" for h in head))
        for name, url in pages(snapshot_id).items():
            m = measure(client, url, args.rounds)
            cells = [f"{m[k]:.1f}" for k in ("wall", "cpu")]
            cells += [f"{m['queries']:.0f}", f"{m['sql']:.1f}"]
            cells += [f"{m['session']:.0f}", f"{m['counts']:.0f}"]
            print(f"  {name:22}" + "".join(f" {c:>8}" for c in cells))
        print("the list page's own time by group (cProfile, ms per request):")
        for group, ms in profile(client, "/snapshots/", args.rounds):
            print(f"  {group:28} {ms:6.1f}")
    finally:
        runner.teardown_databases(old)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
