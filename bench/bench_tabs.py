"""What open tabs cost the web tier and the database: --tabs (200) tabs checking at once.

gunicorn runs exactly as in production (`gunicorn -c deploy/gunicorn.conf.py dashboard.wsgi`:
its workers, threads, keep-alive, access log and worker recycling) over a scratch database
seeded with --rows (2,000) snapshots, --watched (500) of them `creating`. Each tab holds a real
signed ticket over --per-tab (25) of the `creating` rows (as a page of them would) and asks
/snapshots/live/stamp every LIVE_CHECK_SECONDS over its own keep-alive connection, as the page's
script does. Meanwhile one watched row changes in the mirror every --change-every (1) s; a
tab watching it counts from the change's commit to the first answer that shows it.

Printed per variant, measured over --seconds (60) after a warm-up: answers per second and their
codes, web-tier CPU (the gunicorn master and its workers, recycled ones included) as a share of
one core, the database's (PostgreSQL: the server processes serving the scratch database; SQLite
runs inside the workers, so its share is in the web figure), change -> tab p50/p95, and the cloud
calls the web tier made meanwhile (there is no cloud: any call would fail and show as errors).

--push also measures the tabs told instead of asking: each holds a change stream
(views/live_stream.py) on uvicorn as compose's `live` service runs it, and the web figure is
that one process.

--before REV also runs the same measurement on that revision's code first (its files from git,
the same database and load), so both figures come from one run on the same machine; --floor
also measures gunicorn alone (the same config and load, an app that answers 204 and nothing
else): the least any answer served by this server can cost.

Run:
  .venv/bin/python bench/bench_tabs.py --before <rev> --floor --push
  DATABASE_URL=postgres://user:pw@127.0.0.1/postgres .venv/bin/python bench/bench_tabs.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PY = sys.executable
STREAM = "/snapshots/live-stream"  # settings.LIVE_STREAM_PATH

from bench_sync import Database, pct, progress  # noqa: E402

from scripts import procs  # noqa: E402


def env_for(tmp: Path, db: Database, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": db.url,
        "DASHBOARD_VAR_DIR": str(tmp / "var"),
        "SECRET_KEY": "bench-tabs-not-a-secret",
        "DASHBOARD_AUTH": "local",
        "OS_CLOUD": "",
        "CINDER_NOAUTH_ENDPOINT": "",
        "KEYSTONE_URL": "",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }


def seed(rows: int, watched: int) -> list[str]:
    """`rows` snapshots in the mirror, the first `watched` of them `creating`; their ids."""
    from django.utils import timezone

    from snapshots.models import Snapshot

    now = timezone.now()
    made = [
        Snapshot(
            id=f"{i:08x}-0000-4000-8000-{random.getrandbits(48):012x}",
            name=f"tab-{i}",
            project_id=f"project-{i % 20}",
            volume_id=f"volume-{i % 300}",
            status="creating" if i < watched else "available",
            size=1 + i % 50,
            progress=10 if i < watched else 100,
            created_at=now,
            updated_at=now,
        )
        for i in range(rows)
    ]
    Snapshot.objects.bulk_create(made, batch_size=1000)
    return [s.id for s in made[:watched]]


# --- the tabs ------------------------------------------------------------------------------------
class Run:
    def __init__(self) -> None:
        self.codes: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.delays: list[float] = []
        self.changes: list[tuple[str, float]] = []  # (row, committed at), in order
        self.lock = threading.Lock()
        self.counting = False
        self.events = 0  # stamps pushed to streaming tabs

    def shown(self, ids: set[str], stamp: str, seen: int, now: float) -> int:
        """A tab watching `ids` got `stamp` at `now`, having seen `seen` of the changes to its
        rows: each change newly shown counts its delay; how many it has seen now.

        Every row starts at version 1 and each change adds 1, one change at a time: the stamp
        says how many of the changes to this tab's rows the answer has seen."""
        shown = int(stamp) - len(ids)
        with self.lock:
            mine = [at for row, at in self.changes if row in ids]
        if self.counting:
            self.delays.extend(now - at for at in mine[seen:shown])
        return max(seen, shown)


async def tab(port: int, path: str, ticket: str, ids: set[str], every: float, run: Run, stop):
    """One open tab: its own keep-alive connection, a check every `every` s."""
    seen = 0  # of the changes to this tab's rows, how many an answer has shown so far
    stamp = ""
    await asyncio.sleep(random.uniform(0, every))
    reader = writer = None
    while not stop.is_set():
        asked = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET {path}?v={stamp} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"X-Live-Ticket: {ticket}\r\n\r\n".encode()
            )
            status = await reader.readline()
            code = int(status.split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            body = await reader.readexactly(length) if length else b""
            if close:  # a recycled worker closes its connections: the browser reconnects
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            if run.counting:
                run.errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            continue
        now = time.time()
        if run.counting:
            run.codes[code] += 1
        if code == 200:
            stamp = body.decode().strip()
            seen = run.shown(ids, stamp, seen, now)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - asked)))
    if writer is not None:
        writer.close()


async def stream_tab(port: int, path: str, ticket: str, ids: set[str], every: float, run: Run,
                     stop):  # fmt: skip
    """One open tab told of changes: a held stream (views/live_stream.py), read as it comes,
    opened again with the tab's stamp when the server ends it, as the page's script does."""
    seen = 0
    stamp = ""
    await asyncio.sleep(random.uniform(0, every))
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"GET {path}?v={stamp} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"X-Live-Ticket: {ticket}\r\n\r\n".encode()
            )
            code = int((await reader.readline()).split()[1])
            while (line := await reader.readline()) not in (b"\r\n", b""):
                pass
            run.codes[code] += 1  # every stream opened, the warm-up's included
            if code != 200:
                await asyncio.sleep(1.0)
                continue
            while not stop.is_set():
                try:
                    line = await asyncio.wait_for(reader.readline(), timeout=0.5)
                except TimeoutError:
                    continue
                if line in (b"0\r\n", b""):  # the last chunk: the server ended the stream
                    break
                if not line.startswith(b"data: "):
                    continue  # chunk sizes, blank lines, comments
                now = time.time()
                if run.counting:
                    run.events += 1
                stamp = line[6:].decode().strip()
                seen = run.shown(ids, stamp, seen, now)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            if run.counting:
                run.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.05)
        finally:
            if writer is not None:
                writer.close()


def changer(watched: list[str], every: float, run: Run, stop: threading.Event) -> None:
    """One watched row changes in the mirror every `every` s (as the workers would record it)."""
    from django.db import connection
    from django.db.models import F

    from snapshots.models import Snapshot

    rng = random.Random(14)
    while not stop.wait(every * rng.uniform(0.5, 1.5)):
        row = rng.choice(watched)
        at = time.time()  # just before the commit: a delay is never shorter than the real one
        Snapshot.objects.filter(pk=row).update(version=F("version") + 1)
        with run.lock:
            run.changes.append((row, at))
    connection.close()


# --- what it costs -------------------------------------------------------------------------------
def web_cpu(master: psutil.Process) -> float:
    """CPU seconds of the gunicorn master and every worker it ever had (reaped ones are in the
    master's children times)."""
    t = master.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in master.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass  # reaped meanwhile: its time moves to the master's children times
    return total


class DatabaseCpu:
    """PostgreSQL on this machine: CPU of the server processes serving the scratch database,
    sampled every half second, so a backend that ends with its connection (a recycled worker's)
    still counts up to its last sample."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.5):
            self.last.update(self._backends())

    def _backends(self) -> dict[int, float]:
        if not self.db.admin_url:
            return {}
        import psycopg

        with psycopg.connect(self.db.admin_url, autocommit=True) as conn:
            pids = [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db.name]
            )]  # fmt: skip
        found = {}
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
                found[pid] = t.user + t.system
            except psutil.Error:
                pass  # another machine's server, or gone
        return found

    def begin(self) -> None:
        self.start = self._backends()
        self.last = dict(self.start)
        if self.db.admin_url:
            self.thread.start()

    def seconds(self) -> float | None:
        if not self.db.admin_url:
            return None
        self.stop.set()
        self.thread.join()
        self.last.update(self._backends())
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())


FLOOR_APP = """
def application(environ, start_response):
    start_response("204 No Content", [("Cache-Control", "no-store"), ("Content-Length", "0")])
    return [b""]
"""


def measure(label: str, code_dir: Path, env: dict, port: int, tickets, watched, args, db,
            app: str = "dashboard.wsgi", path: str = "", push: bool = False) -> str:  # fmt: skip
    if push:  # compose's live service: uvicorn with the dashboard's ASGI application
        cmd = [PY, "-m", "uvicorn", "dashboard.asgi:application", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "2"]
    else:
        cmd = [PY, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app]
    server = procs.start(
        "web",
        cmd,
        env={**env, "PYTHONPATH": os.pathsep.join([str(code_dir), path]).strip(os.pathsep)},
        cwd=code_dir,
    )
    try:
        server.wait_port(port, timeout=90)
        time.sleep(3)  # every worker booted
        master = psutil.Process(server.pid)
        run = Run()
        stop_tabs = None
        stop_changes = threading.Event()

        async def main() -> tuple[float, float, float | None, float]:
            nonlocal stop_tabs
            stop_tabs = asyncio.Event()
            one_tab, path = (stream_tab, STREAM) if push else (tab, "/snapshots/live/stamp")
            tasks = [
                asyncio.create_task(one_tab(port, path, t, ids, args.every, run, stop_tabs))
                for t, ids in tickets
            ]
            await asyncio.sleep(args.warmup)
            dbcpu = DatabaseCpu(db)
            dbcpu.begin()
            cpu0, mine0, t0 = web_cpu(master), time.process_time(), time.monotonic()
            run.counting = True
            await asyncio.sleep(args.seconds)
            run.counting = False
            wall = time.monotonic() - t0
            web = (web_cpu(master) - cpu0) / wall
            mine = (time.process_time() - mine0) / wall
            database = dbcpu.seconds()
            stop_tabs.set()
            await asyncio.gather(*tasks)
            return web, mine, (database / wall if database is not None else None), wall

        changes = threading.Thread(
            target=changer, args=(watched, args.change_every, run, stop_changes)
        )
        changes.start()
        try:
            web, mine, database, wall = asyncio.run(main())
        finally:
            stop_changes.set()
            changes.join()
    finally:
        server.stop()
        if os.environ.get("BENCH_TABS_SERVER_LOG"):
            lines = [line for line in server.output(400).splitlines() if "GET /snap" not in line]
            progress("\n".join(lines[-40:]))
    answers = sum(run.codes.values())
    dbtext = (
        f"{100 * database:.1f} % of one core"
        if database is not None
        else "in the web figure (SQLite runs inside the workers)"
    )
    errors = f", errors {dict(run.errors)}" if run.errors else ""
    d = run.delays
    if push:
        return (
            f"{label}: {len(tickets)} tabs, {run.events / wall:.1f} stamps pushed/s, streams "
            f"opened (warm-up included) {dict(sorted(run.codes.items()))}{errors}\n"
            f"    web tier (the uvicorn process) {100 * web:.1f} % of one core; "
            f"database {dbtext}\n"
            f"    change -> tab p50 {pct(d, 0.5):.2f} s, p95 {pct(d, 0.95):.2f} s over {len(d)} "
            f"(change, tab) pairs; the bench's own tabs used {100 * mine:.0f} % of a core"
        )
    if app != "dashboard.wsgi":
        return (
            f"{label}: {len(tickets)} tabs, {answers / wall:.0f} answers/s "
            f"{dict(sorted(run.codes.items()))}{errors}\n"
            f"    web tier (gunicorn master + workers) {100 * web:.1f} % of one core"
        )
    return (
        f"{label}: {len(tickets)} tabs, {answers / wall:.0f} answers/s "
        f"{dict(sorted(run.codes.items()))}{errors}\n"
        f"    web tier (gunicorn master + workers) {100 * web:.1f} % of one core; "
        f"database {dbtext}\n"
        f"    change -> tab p50 {pct(d, 0.5):.2f} s, p95 {pct(d, 0.95):.2f} s over {len(d)} "
        f"(change, tab) pairs; the bench's own tabs used {100 * mine:.0f} % of a core"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--watched", type=int, default=500)
    parser.add_argument("--per-tab", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--change-every", type=float, default=1.0)
    parser.add_argument("--before", default="", help="also measure this git revision first")
    parser.add_argument(
        "--push", action="store_true",
        help="also measure tabs told over streams (uvicorn, dashboard.asgi) instead of checking",
    )  # fmt: skip
    parser.add_argument(
        "--floor", action="store_true",
        help="also measure gunicorn alone: the same config and load, an app that answers 204",
    )  # fmt: skip
    args = parser.parse_args()

    shown = []
    if os.environ.get("DATABASE_URL"):
        value = os.environ["DATABASE_URL"]
        parts = urlsplit(value)
        if parts.password:
            value = value.replace(f":{parts.password}@", ":***@")
        shown.append(f"DATABASE_URL={value}")
    command = " ".join([*shown, ".venv/bin/python bench/bench_tabs.py", shlex.join(sys.argv[1:])])
    print(f"command: {command.strip()}", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="bench-tabs-"))
    db = Database(tmp)
    port = procs.free_port()
    env = env_for(tmp, db, port)
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        os.environ.update({k: v for k, v in env.items() if k != "GUNICORN_BIND"})
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections

        from snapshots.views.live import ticket_for

        watched = seed(args.rows, args.watched)
        rng = random.Random(7)
        tickets = []
        for _ in range(args.tabs):
            ids = rng.sample(watched, args.per_tab)
            tickets.append((ticket_for(ids), set(ids)))
        connections.close_all()
        args.every = settings.LIVE_CHECK_SECONDS
        print(
            f"database {db.label}, {args.rows} snapshots ({args.watched} watched, {args.per_tab} "
            f"per tab), tab check every {args.every:g} s, a watched row changes every "
            f"~{args.change_every:g} s, measured over {args.seconds:g} s after {args.warmup:g} s; "
            f"gunicorn -c deploy/gunicorn.conf.py ({os.environ.get('GUNICORN_WORKERS', '3')} "
            f"workers x {os.environ.get('GUNICORN_THREADS', '4')} threads)",
            flush=True,
        )
        variants = []
        if args.before:
            rev = subprocess.run(
                ["git", "rev-parse", "--short", args.before],
                cwd=ROOT, check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip
            old = tmp / "before"
            old.mkdir()
            archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                                     capture_output=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            variants.append((f"before ({rev})", old))
        variants.append(("after (this tree)", ROOT))
        from snapshots.models import Snapshot

        if args.floor:
            (tmp / "floor_app.py").write_text(FLOOR_APP)
            label = "gunicorn alone (same config and load, an app that only answers 204)"
            progress(f"{label}: {args.tabs} tabs for {args.warmup + args.seconds:g} s")
            line = measure(label, ROOT, env, port, tickets, watched, args, db,
                           app="floor_app:application", path=str(tmp))  # fmt: skip
            print(line, flush=True)

        for label, code_dir in variants:
            Snapshot.objects.filter(pk__in=watched).update(version=1)  # as seeded, each run
            connections.close_all()
            progress(f"{label}: {args.tabs} tabs for {args.warmup + args.seconds:g} s")
            print(measure(label, code_dir, env, port, tickets, watched, args, db), flush=True)
        if args.push:
            Snapshot.objects.filter(pk__in=watched).update(version=1)
            connections.close_all()
            label = "told (this tree, streams on uvicorn)"
            progress(f"{label}: {args.tabs} tabs for {args.warmup + args.seconds:g} s")
            print(measure(label, ROOT, env, port, tickets, watched, args, db, push=True),
                  flush=True)  # fmt: skip
    finally:
        db.discard(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
