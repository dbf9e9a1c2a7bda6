"""The whole sweep and detection against the simulator seeded with 100,000 snapshots in three
projects (`sync_snapshots` is one whole sweep round; `track` is detection's tick). Freshness per
kind of change and the idle cost: bench/bench_freshness.py.

Prints, with the command that made them:
- the full sync: wall time and peak RSS of a process that runs only the sync (ru_maxrss), for
  the first sync into an empty mirror and for a second, steady-state one, and the Cinder
  requests each cost (targets: under 60 s, under 200 MB);
- tracking: a real `celery -A dashboard worker -B` (the embedded broker unless REDIS_URL or
  CELERY_BROKER_URL is set) keeps 200 transitional snapshots true for a minute while new ones
  keep arriving the way the create action stores them (the mirror row; with --action-messages
  also the `track` message the action sends, which costs no cloud call since the snapshot was
  just seen, but costs broker throughput: the embedded broker drains ~2 a second). It
  prints the Cinder requests per minute (from /_sim/stats; target: at most one list call per
  project per tick) and the delay from each status change in the cloud (Cinder's updated_at)
  to the mirror (target: p95 under 3 s at the default 3 s tick);
- the same 200 snapshots when none of them moves (stuck): what the back-off saves.

Run:
  .venv/bin/python bench/bench_sync.py                          # SQLite (a temporary file)
  DATABASE_URL=postgres://user:pw@127.0.0.1/postgres .venv/bin/python bench/bench_sync.py
      (PostgreSQL: creates and drops a scratch database bench_sync_<pid> on that server)
Options: --snapshots N (100000), --tracked N (200), --seconds S (60), --tracker celery|loop,
         --action-messages, --skip-sync, --skip-track
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts import procs  # noqa: E402

PY = sys.executable

SYNC_SECONDS_TARGET = 60
SYNC_RSS_TARGET_MB = 200
DELAY_P95_TARGET = 3.0
LIST = "GET /volume/v3/{project_id}/snapshots/detail"


# --- the child that runs only the sync -------------------------------------------------------
def child_sync() -> int:
    import django

    django.setup()
    from snapshots.services.sync import sync_snapshots

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    result = sync_snapshots()
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "summary": result.summary(),
                "seconds": seconds,
                "rss_before_mb": before,
                "rss_peak_mb": peak,
                "pages": result.pages,
            }
        )
    )
    return 0


# --- databases ---------------------------------------------------------------------------------
class Database:
    """A throw-away database: a SQLite file, or a scratch database on a PostgreSQL server."""

    def __init__(self, tmp: Path) -> None:
        url = os.environ.get("DATABASE_URL", "")
        self.admin_url = ""
        if url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(url)
            self.name = f"bench_sync_{os.getpid()}"
            self.admin_url = url
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
            self._admin(f'CREATE DATABASE "{self.name}"')
            self.label = f"PostgreSQL ({parts.hostname})"
        else:
            self.url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            self.label = "SQLite (file, WAL)"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def drop(self) -> None:
        if self.admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def discard(self, tmp: Path) -> None:
        """The end of a run: close this process's connections (Django's, where it was set up),
        drop the database and remove the work folder."""
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        self.drop()
        shutil.rmtree(tmp, ignore_errors=True)


# Shared by the benchmarks that import this module.
def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    """The `p` quantile (0-1) of `values`, nearest rank; NaN for none."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def dashboard_env(tmp: Path, db: Database, sim, **extra: str) -> dict[str, str]:
    """The environment of the dashboard processes a benchmark starts: its scratch database,
    the simulator as the cloud (a clouds.yaml in `tmp`), warnings only; `extra` on top."""
    clouds = tmp / "clouds.yaml"
    sim.write_clouds_yaml(clouds, "bench")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": db.url,
        "DASHBOARD_VAR_DIR": str(tmp / "var"),
        "OS_CLOUD": "bench",
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "KEYSTONE_URL": sim.identity_url,
        "CINDER_NOAUTH_ENDPOINT": "",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


# --- tracking ----------------------------------------------------------------------------------
def snapshot_data(raw: dict):
    """The simulator's control API answers with Cinder's JSON; make it our dataclass."""
    from snapshots.cloud.dto import SnapshotData

    def when(value):
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    progress = raw.get("os-extended-snapshot-attributes:progress") or "0%"
    return SnapshotData(
        id=raw["id"],
        name=raw.get("name") or "",
        description=raw.get("description") or "",
        status=raw["status"],
        size=int(raw.get("size") or 0),
        volume_id=raw.get("volume_id") or "",
        project_id=raw["os-extended-snapshot-attributes:project_id"],
        created_at=when(raw["created_at"]),
        updated_at=when(raw.get("updated_at")),
        progress=int(progress.rstrip("%")),
        user_id=raw.get("user_id") or "",
        group_snapshot_id=raw.get("group_snapshot_id") or "",
        consumes_quota=raw.get("consumes_quota"),
        metadata=raw.get("metadata") or {},
    )


def start_tracker(kind: str, env: dict, tmp: Path) -> procs.Proc:
    """The worker that keeps the mirror true: Celery with beat, or the plain loop command."""
    if kind == "celery":
        cmd = [
            PY, "-m", "celery", "-A", "dashboard", "worker", "-B", "--loglevel", "INFO",
            "--concurrency", "2", "--without-gossip", "--without-mingle",
            "--schedule", str(tmp / "beat-schedule"),
        ]  # fmt: skip
    else:
        cmd = [PY, "manage.py", "detect_snapshots", "--loop"]
    return procs.start("tracker", cmd, env=env, cwd=ROOT)


def track_bench(sim, args, env: dict, tmp: Path) -> dict:
    """Keep `tracked` snapshots in flight for `seconds`; then leave them stuck for `seconds`."""
    from django.conf import settings

    from snapshots.choices import ChangeSource
    from snapshots.models import Snapshot
    from snapshots.services import mirror, queue

    rng = random.Random(7)
    projects = ["alpha", "beta", "gamma"]
    tick = settings.DETECT_INTERVAL
    in_flight: dict[str, float] = {}  # id -> when created (for bookkeeping)
    lock = threading.Lock()
    counter = [0]

    def create(complete_in: float | None) -> None:
        """What the create action does: Cinder creates, the mirror stores, track is asked."""
        project = projects[counter[0] % len(projects)]
        counter[0] += 1
        kw = {"status": "creating", "name": f"bench-{counter[0]}"}
        if complete_in is not None:
            kw["complete_in"] = complete_in
        raw = sim.create_snapshot(project, **kw)
        mirror.apply(snapshot_data(raw), source=ChangeSource.ACTION)
        if args.action_messages:
            queue.send("snapshots.tasks.track", {"snapshot_id": raw["id"]})
        with lock:
            in_flight[raw["id"]] = time.time()

    tracker = start_tracker(args.tracker, env, tmp)
    try:
        if args.tracker == "celery":
            try:
                tracker.wait_for_line(" ready.", timeout=60)
            except procs.ProcessFailed as exc:
                raise SystemExit(f"the tracker did not start: {exc}") from None
        # Busy: `tracked` snapshots in flight, each finishing 1-55 s after it starts, and a new
        # one started whenever one finishes (as if people kept creating them). Measured after
        # a warm-up, once the first ones have been replaced at scattered times.
        for _ in range(args.tracked):
            create(rng.uniform(1, 55))

        def follow(seconds: float, delays: list[float]) -> None:
            """Watch the mirror every 50 ms; a helper thread starts the replacements, so the
            watching is not slowed down by them."""
            import queue as queues

            from django.db import connection

            finished: queues.Queue = queues.Queue()

            def replace() -> None:
                while finished.get() is not None:
                    create(rng.uniform(5, 55))
                connection.close()

            helper = threading.Thread(target=replace)
            helper.start()
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                with lock:
                    watched = list(in_flight)
                done = Snapshot.objects.filter(pk__in=watched, status="available").values_list(
                    "id", "updated_at"
                )
                seen = time.time()
                for snapshot_id, changed_at in done:
                    delays.append(seen - changed_at.timestamp())  # Cinder's time of the change
                    with lock:
                        del in_flight[snapshot_id]
                    finished.put(snapshot_id)
                time.sleep(0.05)
            finished.put(None)
            helper.join()

        follow(5 * tick, [])
        sim.reset_stats()
        delays: list[float] = []
        begun = time.monotonic()
        follow(args.seconds, delays)
        elapsed = time.monotonic() - begun
        busy = sim.stats()["by_route"]
        total = sum(busy.values())
        recent = sim.requests()[-total:] if total <= 500 else []
        window = [r["path"] for r in recent if "snapshots/detail" in r["path"]]
        newest_page = [p for p in window if "status=" not in p]
        limits = [int(p.split("limit=")[1].split("&")[0]) for p in newest_page]

        # Quiet: the same snapshots stop moving (stuck in creating) and start again from the
        # first check, so the minute shows the back-off from 2 s.
        sim.faults(stuck=["creating"])
        now = datetime.now(UTC)
        with lock:
            stuck = list(in_flight)
        Snapshot.objects.filter(pk__in=stuck).update(check_interval=0, next_check_at=now)
        sim.reset_stats()
        time.sleep(args.seconds)
        quiet = sim.stats()["by_route"]
        sim.clear_faults()
    finally:
        tracker.stop(grace=20)
    ticks = elapsed / tick
    lists = busy.get(LIST, 0)
    delays.sort()
    return {
        "tick": tick,
        "seconds": elapsed,
        "ticks": ticks,
        "busy_routes": {k: v for k, v in busy.items() if "/_sim" not in k},
        "busy_lists": lists,
        "newest_page_calls": len(newest_page),
        "status_list_calls": len(window) - len(newest_page),
        "newest_page_rows": statistics.median(limits) if limits else 0,
        "busy_total": sum(busy.values()),
        "per_project_tick": lists / (ticks * len(projects)),
        "changes": len(delays),
        "p50": statistics.median(delays) if delays else float("nan"),
        "p95": delays[int(0.95 * (len(delays) - 1))] if delays else float("nan"),
        "max": delays[-1] if delays else float("nan"),
        "quiet_total": sum(quiet.values()),
        "quiet_lists": quiet.get(LIST, 0),
        "quiet_routes": quiet,
    }


# --- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--tracked", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tracker", choices=("celery", "loop"), default="celery")
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--skip-track", action="store_true")
    parser.add_argument(
        "--action-messages",
        action="store_true",
        help="also send the track message the create action sends (costs broker throughput; "
        "no cloud call, the snapshot was just seen)",
    )
    parser.add_argument("--child-sync", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_sync:
        return child_sync()

    from cloudsim.testing import start_simulator

    shown = []
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DETECT_INTERVAL"):
        if os.environ.get(name):
            parts = urlsplit(os.environ[name])
            value = os.environ[name]
            if parts.password:  # never print a password
                value = value.replace(f":{parts.password}@", ":***@")
            shown.append(f"{name}={value}")
    command = " ".join([*shown, ".venv/bin/python bench/bench_sync.py", shlex.join(sys.argv[1:])])
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    t = time.monotonic()
    sim = start_simulator(
        "--seed-snapshots", str(args.snapshots), "--create-delay", "3", timeout=600
    )
    seeded = time.monotonic() - t
    db = Database(tmp)
    # the tracking minute counts detection's requests only
    env = dashboard_env(tmp, db, sim, SWEEP_INTERVAL="3600")
    out: list[str] = []
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        total = sim.info()["snapshot_count"]
        out.append(f"command: {command}")
        out.append(
            f"cloud: simulator, {total} snapshots in 3 projects (seeded in {seeded:.1f} s); "
            f"database: {db.label}; machine: {os.cpu_count()} CPUs, Python "
            f"{sys.version.split()[0]}"
        )
        if not args.skip_sync:
            for label in ("first sync (empty mirror)", "second sync (steady state)"):
                sim.reset_stats()
                proc = subprocess.run([PY, __file__, "--child-sync"], cwd=ROOT, env=env,
                                      capture_output=True, text=True)  # fmt: skip
                if proc.returncode:
                    raise SystemExit(f"the sync failed:\n{proc.stderr[-3000:]}")
                figures = json.loads(proc.stdout.strip().splitlines()[-1])
                requests = sim.stats()["total"]
                verdict = (
                    "ok"
                    if figures["seconds"] < SYNC_SECONDS_TARGET
                    and figures["rss_peak_mb"] < SYNC_RSS_TARGET_MB
                    else "MISSED"
                )
                out.append(
                    f"{label}: {figures['seconds']:.1f} s, peak RSS "
                    f"{figures['rss_peak_mb']:.0f} MB ({figures['rss_before_mb']:.0f} MB before "
                    f"the sync started), {requests} cloud requests, {figures['pages']} pages "
                    f"[{verdict}: < {SYNC_SECONDS_TARGET} s, < {SYNC_RSS_TARGET_MB} MB]"
                )
                out.append(f"  {figures['summary']}")
        if not args.skip_track:
            os.environ.update(env)
            import django

            django.setup()
            t = track_bench(sim, args, env, tmp)
            broker = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
            via = (
                f"celery worker -B, broker {broker or 'filesystem (embedded)'}"
                if args.tracker == "celery"
                else "manage.py detect_snapshots --loop"
            )
            per_tick = t["newest_page_calls"] / (t["ticks"] * 3)
            verdict_calls = "ok" if per_tick <= 1.0 else "MISSED"
            verdict_delay = "ok" if t["p95"] < DELAY_P95_TARGET else "MISSED"
            out.append(
                f"tracking {args.tracked} transitional snapshots ({via}, tick {t['tick']:g} s), "
                f"busy: {t['seconds']:.0f} s, {t['changes']} status changes, new snapshots "
                f"replacing finished ones"
            )
            out.append(
                f"  cloud requests: {t['busy_total'] * 60 / t['seconds']:.0f}/min in all, "
                f"{t['busy_lists'] * 60 / t['seconds']:.0f} list calls/min "
                f"({t['per_project_tick']:.2f} per project per tick)"
            )
            out.append(
                f"  for the {args.tracked}: {t['newest_page_calls']} newest-page lists (median "
                f"limit {t['newest_page_rows']:.0f} rows) = {per_tick:.2f} per project per tick "
                f"[{verdict_calls}: <= 1]; the other {t['status_list_calls']} are status-filtered "
                f"lists for the seed's ~1% stuck snapshots older than the newest page, on their "
                f"back-off"
            )
            out.append(f"  by route: {json.dumps(t['busy_routes'], sort_keys=True)}")
            out.append(
                f"  delay cloud -> mirror: p50 {t['p50']:.2f} s, p95 {t['p95']:.2f} s, max "
                f"{t['max']:.2f} s [{verdict_delay}: p95 < {DELAY_P95_TARGET:g} s] (includes the "
                f"bench's own 50 ms polling of the mirror)"
            )
            out.append(
                f"  quiet (the same number stuck in creating, back-off from 2 s): "
                f"{t['quiet_total']} requests in {args.seconds:.0f} s ({t['quiet_lists']} list "
                f"calls): {json.dumps(t['quiet_routes'], sort_keys=True)}"
            )
    finally:
        sim.stop()
        db.drop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
