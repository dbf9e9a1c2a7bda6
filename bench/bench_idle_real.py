"""What detection costs a real Cinder 29 at idle, beside one whole-inventory sweep pass.

Against the real Keystone 30 + Cinder 29 of tests/realcloud/cloud.py (started here unless
--running), whose database is seeded with --snapshots (100,000) snapshot rows written straight
into Cinder's `snapshots` and `snapshot_metadata` tables, in the shape Cinder writes them (over
its nine seed volumes in three projects; the simulator's bulk mix: 94 % available, 3 % error,
2 % error_deleting, 1 % creating and stuck, created over the last year, owner/env/retention
metadata). The dashboard runs in this process with a scratch database of its own and the
service credential from the cloud's clouds.yaml (Keystone tokens, the Keystone-protected
cinder-api), exactly as a worker does:

(a) one whole sweep pass (`services.sweep.sweep_all`: every volume page, then every snapshot
    page of SYNC_PAGE_SIZE in Cinder's default order), which also fills the mirror;
(b) --idle-seconds (60) of detection ticks (`services.detect.detect`) every DETECT_INTERVAL,
    nothing changing in the cloud, after a few ticks to settle; then as much again with
    Cinder's notifications flowing (a listener's fresh heartbeat: detection is their safety net
    and ticks every DETECT_EVENTS_INTERVAL);
(c) each call shape of (a) and (b), and the recent page detection read every tick before its
    probe, timed in turn for --rounds (10) rounds: the machine's load, which moves (a) and (b)
    by a quarter from run to run, then weighs on every shape alike.

Cinder time is the round trip of every HTTP request to cinder-api (loopback; Keystone's token
requests are not counted), taken at the requests session under keystoneauth. Printed: calls
and Cinder time of the pass; calls/min and Cinder time/min of idle detection; the sweep's share
at SWEEP_INTERVAL; each as a share of one pass; the mean time of each query shape.

Run (about 5 minutes; the 2 cores shared, so figures are upper bounds):
  REALCLOUD_PORT_BASE=29750 REALCLOUD_RUN=/tmp/idle-realcloud \\
      .venv/bin/python bench/bench_idle_real.py
Options: --snapshots N, --idle-seconds S, --rounds N, --running (use the cloud REALCLOUD_RUN
already runs and leave it up), --keep (leave the cloud this run started up).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PY = sys.executable
CLOUD = [PY, str(ROOT / "tests" / "realcloud" / "cloud.py")]

from bench_sync import Database, progress  # noqa: E402

OWNERS = ("ops", "dba", "web-team", "ml-team", "ci", "security")
ENVS = ("prod", "staging", "dev")
KINDS = ("nightly", "weekly", "pre-upgrade", "manual", "hourly")
STATUSES = ["available"] * 94 + ["error"] * 3 + ["error_deleting"] * 2 + ["creating"]
TARGET_CALLS, TARGET_SHARE = 30, 2.0


def run_dir() -> Path:
    tmp = os.environ.get("TMPDIR") or "/tmp"
    return Path(os.environ.get("REALCLOUD_RUN") or Path(tmp) / "snapshot-dashboard-realcloud")


# --- seeding Cinder's database ------------------------------------------------------------------
def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # how oslo.db stores a DateTime in SQLite


def seed(db_path: Path, wanted: int) -> int:
    """Top Cinder's live snapshot rows up to `wanted`; returns how many were added."""
    conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        have = conn.execute("SELECT COUNT(*) FROM snapshots WHERE deleted = 0").fetchone()[0]
        if have >= wanted:
            return 0
        volumes = conn.execute(
            "SELECT id, user_id, project_id, size, volume_type_id, display_name FROM volumes "
            "WHERE deleted = 0 AND status IN ('available', 'in-use') ORDER BY display_name"
        ).fetchall()
        if not volumes:
            raise SystemExit("the cloud has no volume to seed snapshots on")
        rng = random.Random(f"idle-real-{wanted}")
        now = datetime.now(UTC).replace(tzinfo=None)
        snaps, metas = [], []
        for i in range(wanted - have):
            vid, user, project, size, vtype, vname = volumes[i % len(volumes)]
            created = now - timedelta(seconds=60 + rng.random() * 365 * 86400)
            status = STATUSES[int(rng.random() * len(STATUSES))]
            # Cinder stamps updated_at when the snapshot leaves `creating`; a stuck one has none
            updated = None if status == "creating" else created + timedelta(seconds=30)
            progress_ = {"creating": "10%", "error": "0%"}.get(status, "100%")
            sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            snaps.append(
                (
                    _stamp(created), updated and _stamp(updated), None, 0, sid, vid, user,
                    project, status, progress_, size, None, f"{vname}-{KINDS[i % 5]}-{i:06d}",
                    "Automated snapshot" if i % 4 else None, None, None, vtype, None, None,
                    None, None, 1,
                )
            )  # fmt: skip
            meta = {"owner": OWNERS[i % len(OWNERS)]}
            if i % 3 == 0:
                meta["env"] = ENVS[i % len(ENVS)]
            if i % 11 == 0:
                meta["retention"] = "30d"
            metas += [(_stamp(created), None, None, 0, sid, k, v) for k, v in meta.items()]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO snapshots (created_at, updated_at, deleted_at, deleted, id, volume_id, "
            "user_id, project_id, status, progress, volume_size, scheduled_at, display_name, "
            "display_description, provider_location, encryption_key_id, volume_type_id, "
            "cgsnapshot_id, provider_id, provider_auth, group_snapshot_id, use_quota) "
            "VALUES (" + ", ".join("?" * 22) + ")",
            snaps,
        )
        conn.executemany(
            "INSERT INTO snapshot_metadata (created_at, updated_at, deleted_at, deleted, "
            "snapshot_id, key, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
            metas,
        )
        conn.execute("COMMIT")
        return len(snaps)
    finally:
        conn.close()


# --- timing every request to Cinder -------------------------------------------------------------
class CinderClock:
    """Wraps the requests session under the gateway's keystoneauth session: every request to
    `cinder` (scheme://host:port) is counted and timed, by query shape."""

    def __init__(self, gateway, cinder: str) -> None:
        self.cinder = cinder
        self.lock = threading.Lock()
        self.calls: list[tuple[str, float]] = []
        http = gateway._conn.session.session  # keystoneauth Session -> requests.Session
        send = http.request

        def timed(method, url, *args, **kwargs):
            started = time.perf_counter()
            try:
                return send(method, url, *args, **kwargs)
            finally:
                if url.startswith(self.cinder):
                    query = kwargs.get("params") or {}
                    self.record(method, url, query, time.perf_counter() - started)

        http.request = timed

    def record(self, method: str, url: str, query: dict, seconds: float) -> None:
        parts = urlsplit(url)
        keys = []
        for k, v in sorted([*parse_qsl(parts.query), *dict(query).items()]):
            if k in ("limit", "sort", "status"):
                keys.append(f"{k}={v}")
            elif k not in ("all_tenants",):
                keys.append(k)
        path = parts.path.rsplit("/", 1)[-1] if "/snapshots/" in parts.path else parts.path
        path = "snapshots/<id>" if len(path) == 36 else path.split("/v3/", 1)[-1].split("/", 1)[-1]
        with self.lock:
            self.calls.append((f"{method} {path}?{'&'.join(keys)}", seconds))

    def take(self) -> list[tuple[str, float]]:
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


def shapes(calls: list[tuple[str, float]]) -> str:
    by: dict[str, list[float]] = defaultdict(list)
    for shape, seconds in calls:
        by[shape].append(seconds)
    return "\n".join(
        f"      {len(v):4d} x {1000 * sum(v) / len(v):6.0f} ms  {k}"
        for k, v in sorted(by.items(), key=lambda kv: -sum(kv[1]))
    )


def interleaved(gateway, clock: CinderClock, rounds: int, pages: int) -> list[str]:
    """Each call shape detection or the sweep makes, timed in turn for `rounds` rounds, so
    that the machine's load weighs on all of them alike; and the idle shares they give."""
    from snapshots.models import Snapshot

    live = Snapshot.objects.live().order_by("-created_at", "-id")
    middle = live.values_list("id", flat=True)[live.count() // 2]  # a page mid-pass
    shapes_ = {
        "probe": dict(sort="updated_at:desc", limit=1, with_count=True),
        "page of 50 (before the probe)": dict(sort="updated_at:desc", limit=50, with_count=True),
        "count of a status": dict(status="creating", limit=0, with_count=True),
        "listing of a status": dict(status="creating", limit=1000),
        "sweep page": dict(limit=1000, marker=middle),
    }
    times: dict[str, list[float]] = defaultdict(list)
    clock.take()
    for _ in range(rounds):
        for name, query in shapes_.items():
            gateway.list_snapshots(all_projects=True, **query)
            times[name].append(clock.take()[0][1])
    mean = {name: sum(v) / len(v) for name, v in times.items()}
    one_pass = (pages + 1) * mean["sweep page"]
    now = 24 * mean["probe"] + mean["count of a status"]
    before = 24 * mean["page of 50 (before the probe)"] + mean["listing of a status"]
    return [
        f"(c) each shape timed in turn, {rounds} rounds: "
        + ", ".join(f"{name} {1000 * m:.0f} ms" for name, m in mean.items()),
        f"    so one minute idle (24 ticks, one stuck status) costs {now:.2f} s = "
        f"{100 * now / one_pass:.1f} % of a pass of {pages + 1} pages ({one_pass:.1f} s); "
        f"before the probe {before:.2f} s = {100 * before / one_pass:.1f} %",
    ]


# --- the run ------------------------------------------------------------------------------------
def dashboard_env(tmp: Path, db: Database, cloud: dict) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": db.url,
        "DASHBOARD_VAR_DIR": str(tmp / "var"),
        "OS_CLOUD": cloud["service_cloud"],
        "OS_CLIENT_CONFIG_FILE": cloud["clouds_yaml"],
        "KEYSTONE_URL": cloud["keystone_url"],
        "CINDER_NOAUTH_ENDPOINT": "",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }


def measure(cloud: dict, args) -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-idle-real-"))
    db = Database(tmp)
    env = dashboard_env(tmp, db, cloud)
    lines: list[str] = []
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings

        from snapshots.cloud.credentials import service_gateway
        from snapshots.services.detect import detect
        from snapshots.services.sweep import sweep_all

        gateway = service_gateway()
        parts = urlsplit(cloud["cinder_urls"]["keystone"])
        clock = CinderClock(gateway, f"{parts.scheme}://{parts.netloc}")
        gateway.list_volumes(all_projects=True, limit=1)  # token and version discovery
        clock.take()

        progress("(a) one whole sweep pass")
        t = time.monotonic()
        result = sweep_all(gateway=gateway)
        wall = time.monotonic() - t
        sweep = clock.take()
        pass_secs = sum(s for _, s in sweep)
        lines.append(
            f"(a) one sweep pass (sweep_all, SYNC_PAGE_SIZE={settings.SYNC_PAGE_SIZE}): "
            f"{result.seen} snapshots, {len(sweep)} calls, {pass_secs:.1f} s of Cinder time "
            f"({wall:.1f} s wall, the mirror's writes included)"
        )
        lines.append(shapes(sweep))

        interval = settings.DETECT_INTERVAL
        progress(
            f"(b) detection ticks every {interval:g} s: settling, then {args.idle_seconds:g} s"
        )
        ticks: list[float] = []

        def tick_for(seconds: float, every: float = interval) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                began = time.monotonic()
                detect(gateway=gateway)
                ticks.append(time.monotonic() - began)
                time.sleep(max(0.0, every - (time.monotonic() - began)))

        tick_for(3 * interval)
        clock.take()
        ticks.clear()
        t = time.monotonic()
        tick_for(args.idle_seconds)
        spent = time.monotonic() - t
        idle = clock.take()
        per_min = 60 / spent
        idle_calls = len(idle) * per_min
        idle_secs = sum(s for _, s in idle) * per_min
        share_calls = len(sweep) * 60 / settings.SWEEP_INTERVAL
        share_secs = pass_secs * 60 / settings.SWEEP_INTERVAL
        ratio = 100 * idle_secs / pass_secs
        ratio_all = 100 * (idle_secs + share_secs) / pass_secs
        lines.append(
            f"(b) idle detection, {len(ticks)} ticks over {spent:.0f} s (a tick takes "
            f"{1000 * sum(ticks) / max(len(ticks), 1):.0f} ms): {idle_calls:.1f} calls/min, "
            f"{idle_secs:.2f} s of Cinder time/min"
        )
        lines.append(shapes(idle))
        lines.append(
            f"    the sweep's share at SWEEP_INTERVAL={settings.SWEEP_INTERVAL:g} s: "
            f"{share_calls:.1f} calls/min, {share_secs:.2f} s/min"
        )
        verdict = "ok" if idle_calls + share_calls <= TARGET_CALLS else "MISSED"
        lines.append(
            f"idle total: {idle_calls + share_calls:.1f} calls/min [{verdict}: <= {TARGET_CALLS}]"
        )
        verdict = "ok" if ratio < TARGET_SHARE else "MISSED"
        lines.append(
            f"Cinder time of idle detection per minute / one whole pass: {ratio:.1f} % "
            f"[{verdict}: < {TARGET_SHARE:g} %]; with the sweep's share: {ratio_all:.1f} %"
        )
        lines += idle_with_events(tick_for, clock, pass_secs, len(sweep), args.idle_seconds)
        lines += interleaved(gateway, clock, args.rounds, len(sweep) - 2)
    finally:
        db.discard(tmp)
    return lines


def idle_with_events(tick_for, clock, pass_secs: float, pass_calls: int, seconds: float
                     ) -> list[str]:  # fmt: skip
    """(b) again while Cinder's notifications flow: a listener's heartbeat kept fresh (its
    events carry the changes; at idle there are none) and a tick every DETECT_EVENTS_INTERVAL,
    as the beat's claim_detect_tick lets them run; the sweep's share at the round interval
    the sweep then keeps (sweep.round_interval(): SWEEP_EVENTS_INTERVAL)."""
    from django.conf import settings
    from django.utils import timezone

    from snapshots.models import ListenerState
    from snapshots.services.sweep import round_interval

    every = max(settings.DETECT_INTERVAL, settings.DETECT_EVENTS_INTERVAL)
    settings.CINDER_NOTIFICATIONS_URL = "amqp://bench-listener"
    beat = threading.Event()

    def heartbeat() -> None:
        while not beat.wait(2.0):
            ListenerState.objects.filter(id=1).update(heartbeat_at=timezone.now())

    now = timezone.now()
    ListenerState.objects.update_or_create(
        id=1, defaults={"connected": True, "heartbeat_at": now, "started_at": now}
    )
    keeper = threading.Thread(target=heartbeat, daemon=True)
    keeper.start()
    progress(f"(b) with notifications flowing: a tick every {every:g} s for {seconds:g} s")
    try:
        tick_for(every)  # the first tick reads what changed since the polling ticks
        clock.take()
        t = time.monotonic()
        tick_for(seconds, every)
        spent = time.monotonic() - t
        idle = clock.take()
        interval = round_interval()  # while the heartbeat is fresh: the events' interval
    finally:
        beat.set()
        keeper.join()
    per_min = 60 / spent
    calls, secs = len(idle) * per_min, sum(s for _, s in idle) * per_min
    share_calls, share_secs = pass_calls * 60 / interval, pass_secs * 60 / interval
    ratio = 100 * secs / pass_secs
    ratio_all = 100 * (secs + share_secs) / pass_secs
    verdict = "ok" if ratio_all < TARGET_SHARE else "MISSED"
    return [
        f"(b) idle detection with notifications flowing, a tick every {every:g} s over "
        f"{spent:.0f} s: {calls:.1f} calls/min, {secs:.2f} s of Cinder time/min = {ratio:.1f} % "
        f"of one whole pass",
        shapes(idle),
        f"    the sweep's share at its round interval while events flow ({interval:g} s): "
        f"{share_calls:.1f} calls/min, {share_secs:.2f} s/min",
        f"idle total with notifications flowing: {calls + share_calls:.1f} calls/min, "
        f"{ratio_all:.1f} % of one whole pass a minute [{verdict}: < {TARGET_SHARE:g} %]",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=10, help="rounds of (c)")
    parser.add_argument("--running", action="store_true", help="use the running cloud")
    parser.add_argument("--keep", action="store_true", help="leave the cloud up")
    args = parser.parse_args()
    shown = [f"{k}={os.environ[k]}" for k in ("REALCLOUD_PORT_BASE", "REALCLOUD_RUN")
             if os.environ.get(k)]  # fmt: skip
    if os.environ.get("DATABASE_URL"):
        shown.append("DATABASE_URL=" + urlsplit(os.environ["DATABASE_URL"]).scheme + "://...")
    command = " ".join([*shown, ".venv/bin/python bench/bench_idle_real.py",
                        shlex.join(sys.argv[1:])]).strip()  # fmt: skip
    print(f"command: {command}", flush=True)
    started_here = False
    try:
        if not args.running:
            progress("starting the real cloud (tests/realcloud/cloud.py up)")
            subprocess.run([*CLOUD, "up"], check=True, stdout=sys.stderr)
            started_here = True
        cloud = json.loads((run_dir() / "cloud.json").read_text())
        t = time.monotonic()
        added = seed(Path(cloud["run_dir"]) / "cinder" / "cinder.sqlite", args.snapshots)
        print(
            f"real Cinder {cloud['versions']['cinder']} (SQLite, fake driver) + Keystone "
            f"{cloud['versions']['keystone']}: {args.snapshots} live snapshots ({added} written "
            f"by SQL in {time.monotonic() - t:.0f} s), 9 volumes, 3 projects",
            flush=True,
        )
        print("\n".join(measure(cloud, args)), flush=True)
    finally:
        if started_here and not args.keep:
            progress("stopping the real cloud (cloud.py down)")
            subprocess.run([*CLOUD, "down"], check=False, stdout=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
