"""The mirror at 1,000,000 snapshots over 10,000 projects, on PostgreSQL.

1. Seeds the simulator (`--seed-snapshots N --seed-projects P`, kept in an SQLite state file
   under --dir, so a rerun starts at once from the same cloud).
2. First sync into an empty mirror the way the workers do it: `sweep_tick` (services/sweep.py)
   until its round finishes, in a process that does nothing else; prints its wall time and
   peak RSS (ru_maxrss). Targets: < 5 minutes, < 300 MB.
3. A resync of the unchanged cloud (`sweep_all`, one whole round): rows written per table, from
   PostgreSQL's own counters (pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del, before and
   after). Target: no mirror row written (the sweep's own cursor and leases are bookkeeping).
4. The snapshot list page over bench/bench_list.py's filter/sort mixes, on the synced mirror
   (in-process test client, server time): wall p50/p95 per mix. Target: p50 < 60 ms, p95 <
   150 ms.

Run:
  .venv/bin/python bench/bench_scale.py
      (starts a private PostgreSQL 15 of its own on a free port, data kept under --dir)
  DATABASE_URL=postgres://user:pw@host:port/postgres .venv/bin/python bench/bench_scale.py
      (that server: creates, and at the end drops, the database bench_scale)
Options: --snapshots N (1000000), --projects P (10000), --rounds R (40, list page requests per
         mix), --dir DIR (/tmp/bench-scale: the simulator's state and the private PostgreSQL),
         --skip-list, --keep (leave the bench_scale database in place)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PY = sys.executable
DB_NAME = "bench_scale"
SYNC_SECONDS_TARGET = 300
SYNC_RSS_TARGET_MB = 300
LIST_P50_TARGET_MS = 60
LIST_P95_TARGET_MS = 150
SHARED_BUFFERS = "shared_buffers=256MB"
MIRROR_TABLES = ("snapshots_snapshot", "snapshots_volume", "snapshots_project")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of this process, or of process `pid` on this machine (its
    PostgreSQL backend: the private server runs here; -1 when it cannot be read)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- children --------------------------------------------------------------------------------
def child_first_sync() -> int:
    """What a worker does at the first beat ticks: sweep ticks until the round finishes."""
    import django

    django.setup()
    from snapshots.services import sweep

    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu_before, db_cpu_before = cpu_seconds(), cpu_seconds(backend)
    started = time.monotonic()
    ticks, seen, pages = 0, 0, 0
    while True:
        result = sweep.sweep_tick()
        ticks += 1
        seen += result.seen
        pages += result.pages
        if result.finished:
            break
    seconds = time.monotonic() - started
    cpu, db_cpu = cpu_seconds() - cpu_before, cpu_seconds(backend) - db_cpu_before
    if profiler is not None:
        profiler.stop()
        sys.stderr.write(profiler.output_text(unicode=False, color=False, show_all=False))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "summary": f"{seen} snapshots in {pages} pages, {ticks} tick(s)",
                "seconds": seconds,
                "rss_before_mb": before,
                "rss_peak_mb": peak,
                "cpu": cpu,
                "db_cpu": db_cpu,
            }
        )
    )
    return 0


def child_resync() -> int:
    import django

    django.setup()
    from snapshots.services import sweep

    started = time.monotonic()
    result = sweep.sweep_all()
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"summary": result.summary(), "seconds": seconds, "rss_peak_mb": peak}))
    return 0


def child_list(rounds: int, member_project: str) -> int:
    """bench_list's mixes against the synced mirror (its configure/users/run_case)."""
    import bench_list

    with tempfile.TemporaryDirectory(prefix="bench-scale-list-") as tmp:
        bench_list.configure(tmp)
        from django.conf import settings
        from django.db import connection

        settings.LOCAL_PROJECT_ID = member_project
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does within a minute of the load
        bench_list.users()
        rows = [bench_list.run_case(index, rounds) for index in range(len(bench_list.CASES))]
    print(json.dumps(rows))
    return 0


# --- the database ------------------------------------------------------------------------------
class Postgres:
    """DATABASE_URL's server, or a private one (data kept in --dir for reruns)."""

    def __init__(self, directory: Path) -> None:
        self.own = None
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            from tests.production.servers import PostgresServer

            class Server(PostgresServer):
                def _options(self) -> str:
                    # a modest production setting instead of the test suites' 32 MB: a 1M-row
                    # mirror's indexes do not fit in 32 MB
                    return super()._options().replace("shared_buffers=32MB", SHARED_BUFFERS)

            server = Server()
            # Keep the data directory between runs instead of a fresh temporary one.
            os.rmdir(server.dir)
            server.dir = directory / "pg"
            server.dir.mkdir(parents=True, exist_ok=True)
            server.data = server.dir / "data"
            if server.as_postgres:
                import shutil

                server.dir.chmod(0o755)
                shutil.chown(server.dir, "postgres")
            server.stop()  # a server a killed run left behind
            self.own = server.start()
            url = server.url
        self.admin_url = url
        self.url = urlunsplit(urlsplit(url)._replace(path=f"/{DB_NAME}"))
        where = f"private, {SHARED_BUFFERS}, fsync=off" if self.own else "DATABASE_URL"
        self.label = f"PostgreSQL {self.version().split()[0]} ({where})"

    def sql(self, statement: str, *, admin: bool = False) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.admin_url if admin else self.url, autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def version(self) -> str:
        return self.sql("SHOW server_version", admin=True)[0][0]

    def recreate(self) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)', admin=True)
        self.sql(f'CREATE DATABASE "{DB_NAME}"', admin=True)

    def writes(self) -> dict[str, int]:
        """Rows inserted + updated + deleted so far, per table (PostgreSQL's counters)."""
        rows = self.sql(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
        )
        return {name: int(count) for name, count in rows}

    def close(self, keep: bool) -> None:
        if not keep:
            self.sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)', admin=True)
        if self.own is not None:
            self.own.stop()


def run_child(flag: list[str], env: dict) -> dict | list:
    done = subprocess.run([PY, __file__, *flag], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(flag)} failed:\n{done.stderr[-4000:]}")
    if os.environ.get("BENCH_PROFILE") and done.stderr:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# --- main ------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--dir", default="/tmp/bench-scale")
    parser.add_argument("--skip-list", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", choices=("first-sync", "resync", "list"), help=argparse.SUPPRESS)
    parser.add_argument("--member-project", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "first-sync":
        return child_first_sync()
    if args.child == "resync":
        return child_resync()
    if args.child == "list":
        return child_list(args.rounds, args.member_project)

    from bench_sync import dashboard_env

    from cloudsim.store import stable_id
    from cloudsim.testing import start_simulator

    shown = ""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parts = urlsplit(os.environ["DATABASE_URL"])
        value = os.environ["DATABASE_URL"]
        if parts.password:  # never print a password
            value = value.replace(f":{parts.password}@", ":***@")
        shown = f"DATABASE_URL={value} "
    command = f"{shown}.venv/bin/python bench/bench_scale.py {shlex.join(sys.argv[1:])}".strip()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    state = directory / f"cloud-{args.snapshots}-{args.projects}.sqlite3"
    fresh = not state.exists()
    started = time.monotonic()
    sim = start_simulator(
        "--state", str(state),
        "--seed-snapshots", str(args.snapshots),
        "--seed-projects", str(args.projects),
        seed="empty",  # only the seeded snapshots: none of the demo's moves with time
        timeout=1800,
    )  # fmt: skip
    seeded = time.monotonic() - started
    db = Postgres(directory)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    out = [f"command: {command}"]
    try:
        db.recreate()
        env = dashboard_env(tmp, db, sim, SWEEP_INTERVAL="3600")
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        info = sim.info()
        out.append(
            f"cloud: simulator, {info['snapshot_count']} snapshots over {args.projects} projects "
            f"({'seeded' if fresh else 'state file reused'} in {seeded:.0f} s); database: "
            f"{db.label}; machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )

        sim.reset_stats()
        sim_cpu = cpu_seconds(sim.proc.pid)
        first = run_child(["--child", "first-sync"], env)
        sim_cpu = cpu_seconds(sim.proc.pid) - sim_cpu
        requests = sim.stats()["total"]
        ok = first["seconds"] < SYNC_SECONDS_TARGET and first["rss_peak_mb"] < SYNC_RSS_TARGET_MB
        out.append(
            f"first sync (empty mirror, sweep ticks): {first['seconds']:.1f} s, peak RSS "
            f"{first['rss_peak_mb']:.0f} MB ({first['rss_before_mb']:.0f} MB before it started), "
            f"{requests} cloud requests; {first['summary']}; CPU: the syncing process "
            f"{first['cpu']:.1f} s, its PostgreSQL backend {first['db_cpu']:.1f} s, the "
            f"simulator {sim_cpu:.1f} s "
            f"[{verdict(ok)}: < {SYNC_SECONDS_TARGET} s, < {SYNC_RSS_TARGET_MB} MB]"
        )
        mirrored = db.sql("SELECT count(*) FROM snapshots_snapshot WHERE deleted_at IS NULL")[0][0]
        out.append(f"  mirror: {mirrored} live snapshots")

        db.sql("VACUUM ANALYZE")  # as autovacuum would by then; also settles the counters
        time.sleep(1.5)  # counters reach pg_stat_user_tables within a second of a commit
        before = db.writes()
        sim.reset_stats()
        again = run_child(["--child", "resync"], env)
        requests = sim.stats()["total"]
        time.sleep(1.5)
        after = db.writes()
        written = {t: after.get(t, 0) - before.get(t, 0) for t in after}
        written = {t: n for t, n in written.items() if n}
        mirror_rows = sum(n for t, n in written.items() if t in MIRROR_TABLES)
        mirror_rows += written.get("snapshots_statuschange", 0)
        out.append(
            f"resync, nothing changed (sweep_all): {again['seconds']:.1f} s, peak RSS "
            f"{again['rss_peak_mb']:.0f} MB, {requests} cloud requests; {again['summary']}"
        )
        out.append(
            f"  rows written (pg_stat_user_tables ins+upd+del): mirror and history "
            f"{mirror_rows} [{verdict(mirror_rows == 0)}: 0]; all tables: "
            f"{json.dumps(written, sort_keys=True)}"
        )

        if not args.skip_list:
            member = stable_id("project", "bulk-00000")
            rows = run_child(
                ["--child", "list", "--rounds", str(args.rounds), "--member-project", member],
                {**env, "DASHBOARD_VAR_DIR": str(tmp / "var")},
            )
            out.append(
                f"list page, bench_list.py's mixes, {args.rounds} requests each (server time, "
                f"in-process test client) [targets: wall p50 < {LIST_P50_TARGET_MS} ms, "
                f"p95 < {LIST_P95_TARGET_MS} ms]"
            )
            out.append(
                f"  {'user':<7} {'wall p50':>9} {'wall p95':>9} {'cpu p50':>8} {'sql p50':>8}"
                "  verdict  url"
            )
            for row in rows:
                ok = row["wall50"] < LIST_P50_TARGET_MS and row["wall95"] < LIST_P95_TARGET_MS
                out.append(
                    f"  {row['who']:<7} {row['wall50']:9.1f} {row['wall95']:9.1f} "
                    f"{row['cpu50']:8.1f} {row['sql50']:8.1f}  {verdict(ok):<7}  {row['url']}"
                )
    finally:
        print("\n".join(out), flush=True)
        sim.stop()
        db.close(args.keep)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
