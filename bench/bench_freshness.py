"""How fast a change in the cloud reaches the mirror and an open tab, and what idling costs.

Against the simulator seeded with --snapshots (100,000) snapshots, a real `celery worker -B`
(detect + sweep on their beat; the embedded broker unless CELERY_BROKER_URL/REDIS_URL is set)
and a real gunicorn serving the live check. For each mode (polling alone; notifications: the
simulator publishes Cinder's notifications and `manage.py listen_notifications` applies them)
and for each kind of change, --changes (50) changes at scattered times:

- status, transitional 10 s: created `creating` outside, turning `available` 10-40 s later;
- status, transitional 10 min: the same, turning `available` 10-10.5 simulated minutes later
  (the simulator's clock is pushed 10 minutes once they are all followed);
- created outside (Cinder's API, as a CLI would; counted when the mirror has it);
- deleted outside (Cinder's delete: `deleting`, gone 2 s later; the mirror counts when it no
  longer shows the snapshot available);
- renamed outside.

change -> mirror: from the change in the cloud (Cinder's own time for the timed ones) to the
mirror showing it, seen by polling the database every 50 ms. change -> browser: to the live
check (views/live.py) answering a new stamp to a tab that asks every LIVE_CHECK_SECONDS with a
ticket over the changed rows, over real HTTP (the tab's fetch of the rows themselves is not
counted). Then, at idle: cloud calls per minute and Cinder time per minute (the simulator's
own time answering), for the beat's detection and the sweep's share of its period.

Run:
  .venv/bin/python bench/bench_freshness.py                   # SQLite (a temporary file)
  DATABASE_URL=postgres://user:pw@127.0.0.1/postgres .venv/bin/python bench/bench_freshness.py
Options: --snapshots N, --changes N (0: only idle and open tabs), --idle-seconds S,
         --modes polling,notifications
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PY = sys.executable

from bench_sync import Database, dashboard_env, pct, progress, start_tracker  # noqa: E402

from scripts import procs  # noqa: E402

TARGETS = {"polling": 3.0, "notifications": 1.0}
IDLE_CALLS_TARGET = 30


# --- one kind of change ------------------------------------------------------------------------
class Change:
    def __init__(self, snapshot_id: str, due: float) -> None:
        self.id = snapshot_id
        self.due = due  # wall-clock time the change happens in the cloud
        self.mirror: float | None = None
        self.browser: float | None = None


class Watch:
    """Polls the mirror (50 ms) for `done(row)`, and the live check as a tab would, for the
    changes added so far (the tab's ticket covers them)."""

    def __init__(self, web: str, done, every: float) -> None:
        self.web, self.done, self.every = web, done, every
        self.changes: list[Change] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def add(self, change: Change) -> None:
        with self.lock:
            self.changes.append(change)

    def current(self) -> list[Change]:
        with self.lock:
            return list(self.changes)

    def _settled(self, changes: list[Change]) -> dict[str, bool]:
        from snapshots.models import Snapshot

        rows = Snapshot.objects.filter(pk__in=[c.id for c in changes])
        return {row.pk: self.done(row) for row in rows}

    def mirror_loop(self) -> None:
        from django.db import connection

        while not self.stop.is_set():
            changes = self.current()
            settled = self._settled(changes)
            now = time.time()
            for change in changes:
                if change.mirror is None and settled.get(change.id):
                    change.mirror = now
            time.sleep(0.05)
        connection.close()

    def tab_loop(self) -> None:
        from django.db import connection

        from snapshots.views.live import ticket_for

        http = requests.Session()
        stamp, ticket, ticket_ids = "", "", ()
        time.sleep(random.uniform(0, self.every))  # a tab's phase is anybody's guess
        while not self.stop.is_set():
            asked = time.time()
            changes = self.current()
            ids = tuple(c.id for c in changes)
            if ids != ticket_ids:  # the page was (re)loaded with these rows
                ticket, ticket_ids, stamp = ticket_for(ids), ids, ""
            if ticket:
                answer = http.get(
                    f"{self.web}/snapshots/live/stamp", params={"v": stamp},
                    headers={"X-Live-Ticket": ticket}, timeout=10,
                )  # fmt: skip
                if answer.status_code == 200:
                    stamp = answer.text.strip()
                    now = time.time()
                    settled = self._settled(changes)  # what the tab's row fetch now shows
                    for change in changes:
                        if change.browser is None and settled.get(change.id):
                            change.browser = now
            time.sleep(max(0.0, self.every - (time.time() - asked)))
        connection.close()


def run_kind(label, web, every, factory, done, wait_for) -> dict:
    """Make the changes while the mirror and the tab are watched; return the delays."""
    watch = Watch(web, done, every)
    threads = [threading.Thread(target=watch.mirror_loop), threading.Thread(target=watch.tab_loop)]
    for t in threads:
        t.start()
    try:
        factory(watch.add)
        deadline = time.time() + wait_for
        while time.time() < deadline and any(c.browser is None for c in watch.current()):
            time.sleep(0.2)
    finally:
        watch.stop.set()
        for t in threads:
            t.join()
    changes = watch.current()
    return {
        "label": label,
        "n": len(changes),
        "mirror": [c.mirror - c.due for c in changes if c.mirror is not None],
        "browser": [c.browser - c.due for c in changes if c.browser is not None],
        "missed": sum(1 for c in changes if c.browser is None),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def tabs_cost(web: str, server_pid: int, every: float, n: int = 1000) -> list:
    """What one open tab's check costs the web tier: `n` unchanged checks (25 watched rows each,
    as a page of transitional rows) over HTTP, the server's CPU per check. Many tabs at once
    (the shared read, gunicorn as production runs it) are measured by bench/bench_tabs.py."""
    from django.db import connection

    from snapshots.models import Snapshot
    from snapshots.views.live import ticket_for

    ids = list(Snapshot.objects.live().values_list("pk", flat=True)[:25])
    connection.close()
    ticket = ticket_for(ids)
    http = requests.Session()
    headers = {"X-Live-Ticket": ticket}
    current = http.get(f"{web}/snapshots/live/stamp", headers=headers, timeout=10).text.strip()
    before = cpu_seconds(server_pid)
    started = time.perf_counter()
    codes = set()
    for _ in range(n):
        answer = http.get(f"{web}/snapshots/live/stamp", params={"v": current}, headers=headers)
        codes.add(answer.status_code)
    wall = time.perf_counter() - started
    cpu = (cpu_seconds(server_pid) - before) / n
    return [
        f"  open tabs: an unchanged check (every {every:g} s) answers {sorted(codes)} in "
        f"{1000 * wall / n:.2f} ms (round trip) for {1000 * cpu:.2f} ms of the web server's CPU "
        f"(measured over {n} checks); 200 tabs at once: bench/bench_tabs.py"
    ]


def parse_iso(value: str) -> float:
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def sim_offset(sim) -> float:
    return sim._call("GET", "/_sim/clock")["offset"]


def kinds(sim, gateway, n: int, rng: random.Random):
    """(label, factory, done, wait) for each kind of change."""
    projects = ["alpha", "beta", "gamma"]

    def timed_creates(longest: float, before_due):
        def factory(add) -> None:
            made = []
            for i in range(n):
                complete_in = longest + rng.uniform(0, 30)
                raw = sim.create_snapshot(
                    projects[i % 3], status="creating", name=f"t{i}", complete_in=complete_in
                )
                made.append((raw["id"], parse_iso(raw["created_at"]) + complete_in))
            before_due()
            offset, now = sim_offset(sim), time.time()
            for sid, due in made:  # one already due when the clock jumped changed at the jump
                add(Change(sid, max(due - offset, now)))

        return factory

    def none() -> None:
        pass

    def ten_minutes_later() -> None:
        time.sleep(8)  # followed a while as `creating` first
        sim.advance(600)

    def spread(action):
        """Run `action(i)` n times at random moments over 30 s; a change is due when it ran."""

        def factory(add) -> None:
            plan = sorted(rng.uniform(0, 30) for _ in range(n))
            start = time.time()
            for i, at in enumerate(plan):
                time.sleep(max(0.0, start + at - time.time()))
                sid = action(i)
                add(Change(sid, time.time()))

        return factory

    volumes = [
        v.id
        for v in gateway.list_volumes(all_projects=True, limit=100)
        if v.status in ("available", "in-use")
    ]

    def create(i: int) -> str:
        """Through Cinder's API, as a CLI would (`creating`, then `available` 3 s later)."""
        made = gateway.create_snapshot(
            volume_id=volumes[i % len(volumes)], name=f"outside-{i}", force=True
        )
        return made.id

    from snapshots.models import Snapshot

    live = Snapshot.objects.live().filter(status="available").order_by("?")
    victims = list(live.values_list("pk", flat=True)[: 2 * n])

    def delete(i: int) -> str:
        gateway.delete_snapshot(victims[i])
        return victims[i]

    def rename(i: int) -> str:
        sid = victims[n + i]
        gateway.update_snapshot(sid, name=f"renamed-{i}")
        return sid

    # A tab's ticket covers the rows it shows; for new rows it is made once they exist (as a
    # reloaded page would), which this bench grants the open tab to measure the path alone.
    return [
        ("status (transitional 10 s)", timed_creates(10, none),
         lambda row: row.status == "available", 90),
        ("status (transitional 10 min)", timed_creates(600, ten_minutes_later),
         lambda row: row.status == "available", 90),
        ("created outside", spread(create), lambda row: row.deleted_at is None, 60),
        ("deleted outside", spread(delete),
         lambda row: row.deleted_at is not None or row.status != "available", 60),
        ("renamed outside", spread(rename), lambda row: row.name.startswith("renamed-"), 60),
    ]  # fmt: skip


# --- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--modes", default="polling,notifications")
    parser.add_argument("--quiet-command", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]

    shown = []
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        if os.environ.get(name):
            value = os.environ[name]
            parts = urlsplit(value)
            if parts.password:
                value = value.replace(f":{parts.password}@", ":***@")
            shown.append(f"{name}={value}")
    command = " ".join(
        [*shown, ".venv/bin/python bench/bench_freshness.py", shlex.join(sys.argv[1:])]
    ).strip()
    if len(modes) > 1:  # one process per mode: each has its own database and settings
        print(f"command: {command}", flush=True)
        for mode in modes:
            rest, skip = [], False
            for arg in sys.argv[1:]:  # without --modes and its value (either spelling)
                if not skip and not arg.startswith("--modes"):
                    rest.append(arg)
                skip = arg == "--modes"
            subprocess.run([PY, __file__, *rest, "--modes", mode, "--quiet-command"], check=False)
        return 0
    if not args.quiet_command:
        print(f"command: {command}", flush=True)
    print("\n".join(run_mode(modes[0], args)), flush=True)
    return 0


def run_mode(mode: str, args) -> list[str]:
    from cloudsim.testing import start_simulator

    tmp = Path(tempfile.mkdtemp(prefix="bench-fresh-"))
    bus = tmp / "bus"
    sim_args = ["--seed-snapshots", str(args.snapshots), "--create-delay", "3"]
    if mode == "notifications":
        sim_args += ["--notify-url", f"filesystem://{bus}"]
    t = time.monotonic()
    sim = start_simulator(*sim_args, timeout=900)
    seeded = time.monotonic() - t
    db = Database(tmp)
    env = dashboard_env(tmp, db, sim, SECRET_KEY="bench-freshness-not-a-secret")
    if mode == "notifications":
        env["CINDER_NOTIFICATIONS_URL"] = f"filesystem://{bus}"
    children: list[procs.Proc] = []
    lines: list[str] = []
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        sim.reset_stats()
        progress(f"{mode}: first sweep of {args.snapshots} snapshots")
        t = time.monotonic()
        subprocess.run([PY, "manage.py", "sync_snapshots"], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        first = time.monotonic() - t
        sweep_stats = sim.stats()
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings

        from snapshots.cloud.credentials import service_gateway

        port = procs.free_port()
        web = f"http://127.0.0.1:{port}"
        children.append(procs.start("web", [PY, "-m", "gunicorn", "dashboard.wsgi", "--bind",
                                            f"127.0.0.1:{port}", "--workers", "1", "--threads",
                                            "4"], env=env, cwd=ROOT))  # fmt: skip
        children.append(start_tracker("celery", env, tmp))
        if mode == "notifications":
            children.append(procs.start("listen", [PY, "manage.py", "listen_notifications"],
                                        env=env, cwd=ROOT))  # fmt: skip
        for child, ready in zip(children, ("Booting worker", " ready.", "listening"), strict=False):
            try:
                child.wait_for_line(ready, timeout=90)
            except procs.ProcessFailed as exc:
                raise SystemExit(f"{child.name} did not start: {exc}") from None
        time.sleep(3 * settings.DETECT_INTERVAL)
        total = sim.info()["snapshot_count"]
        lines.append(
            f"== {mode}: simulator with {total} snapshots (seeded in {seeded:.0f} s), database "
            f"{db.label}, detect every {settings.DETECT_INTERVAL:g} s, sweep round every "
            f"{settings.SWEEP_INTERVAL:g} s, tab check every {settings.LIVE_CHECK_SECONDS:g} s"
        )
        lines.append(
            f"first sweep (manage.py sync_snapshots, empty mirror): {first:.1f} s, "
            f"{sweep_stats['total']} cloud calls, {sweep_stats['seconds']:.1f} s of Cinder time"
        )
        rng = random.Random(14)
        gateway = service_gateway()
        results = []
        for label, factory, done, wait in kinds(sim, gateway, args.changes, rng) * bool(
            args.changes
        ):
            progress(f"{mode}: {label}")
            sim.reset_stats()
            begun = time.monotonic()
            result = run_kind(label, web, settings.LIVE_CHECK_SECONDS, factory, done, wait)
            result["calls"] = sim.stats()
            result["seconds"] = time.monotonic() - begun
            results.append(result)
        target = TARGETS[mode]
        for r in results:
            m, b = r["mirror"], r["browser"]
            verdict = "ok" if m and b and pct(b, 0.95) < target and not r["missed"] else "MISSED"
            missed = f", {r['missed']} never seen" if r["missed"] else ""
            lines.append(
                f"  {r['label']:<30} n={r['n']:<3} change->mirror p50 {pct(m, 0.5):5.2f} s p95 "
                f"{pct(m, 0.95):5.2f} s | change->browser p50 {pct(b, 0.5):5.2f} s p95 "
                f"{pct(b, 0.95):5.2f} s{missed} [{verdict}: p95 < {target:g} s]"
            )
            if mode == "notifications":
                polled = {k: v for k, v in r["calls"]["by_route"].items() if "snapshots" in k}
                lines.append(f"      cloud calls meanwhile: {polled}")
        progress(f"{mode}: idle for {args.idle_seconds:g} s")
        # Idle: nothing changes for a while. The demo seed's running snapshots (a `creating` due
        # 15 minutes after start, a `deleting` 10) are finished first by the simulator's clock:
        # while they run, their statuses are listed every tick, which is not idle. What follows
        # from their change (their projects' quotas read again at the next quota tick) comes
        # before the idle time is measured, too.
        sim.advance(900)
        time.sleep(10 + max(settings.QUOTA_INTERVAL, settings.MESSAGES_INTERVAL))
        sim.reset_stats()
        time.sleep(args.idle_seconds)
        idle = sim.stats()
        from snapshots.services import listen
        from snapshots.services.sweep import round_interval

        state = listen.mode()
        interval = round_interval()  # SWEEP_EVENTS_INTERVAL while notifications flow
        per_min = 60 / args.idle_seconds
        sweep_calls = sweep_stats["total"] * 60 / interval
        sweep_secs = sweep_stats["seconds"] * 60 / interval
        calls = idle["total"] * per_min + sweep_calls
        cinder = idle["seconds"] * per_min + sweep_secs
        verdict = "ok" if calls <= IDLE_CALLS_TARGET else "MISSED"
        share = 100 * cinder / max(sweep_stats["seconds"], 1e-9)
        lines.append(
            f"  idle: {idle['total'] * per_min:.0f} calls/min measured over "
            f"{args.idle_seconds:g} s ({idle['seconds'] * per_min:.2f} s Cinder time/min) + the "
            f"sweep's share at one round every {interval:g} s {sweep_calls:.1f} calls/min "
            f"({sweep_secs:.2f} s/min) = {calls:.1f} "
            f"calls/min, {cinder:.2f} s Cinder time/min = {share:.1f} % of one whole-inventory "
            f"pass [{verdict}: <= {IDLE_CALLS_TARGET} calls/min]"
        )
        lines.append(f"      mode at the end: {state.name} ({state.reason})")
        lines.append(f"      by route: {idle['by_route']}")
        spent = {k: round(v, 3) for k, v in idle.get("seconds_by_route", {}).items()}
        lines.append(f"      Cinder seconds by route: {spent}")
        kinds_seen: dict[str, int] = {}
        for request in sim.requests():
            query = request["path"].split("?", 1)[-1]
            shape = "&".join(
                sorted(p if p.startswith("status=") else p.split("=")[0] for p in query.split("&"))
            )
            kinds_seen[shape] = kinds_seen.get(shape, 0) + 1
        lines.append(f"      by query shape (last 500 requests): {kinds_seen}")
        lines += tabs_cost(web, children[0].pid, settings.LIVE_CHECK_SECONDS)
    finally:
        procs.stop_all(reversed(children))
        sim.stop()
        db.discard(tmp)
    return lines


if __name__ == "__main__":
    sys.exit(main())
