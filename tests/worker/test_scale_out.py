"""Scale-out on the engines production uses: three Celery worker processes on one Redis and one
PostgreSQL share the work and do none of it twice.

The test floods the queue with the ticks the beat would send (sync, track, alert evaluation),
far more than one worker could take, while snapshots move in the simulator. Afterwards every
snapshot's history holds each transition once, the alert for the one snapshot that failed was
delivered once (to a local webhook receiver), and more than one worker did the work.

Needs PostgreSQL (DATABASE_URL=postgres://...) and Redis (REDIS_URL), as .ci/run provides:
  DATABASE_URL=postgres://postgres@127.0.0.1:5433/dashboard REDIS_URL=redis://127.0.0.1:6390/0 \\
    .venv/bin/python -m pytest -m redis tests/worker/test_scale_out.py
Asked for without them, it fails rather than skips.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from scripts import procs
from snapshots.tests.observability.conftest import receiver  # noqa: F401 (the fixture)
from tests.worker.test_real_worker import ROOT, migrate, redis_url  # noqa: F401 (fixture)

WORKERS = 3
SNAPSHOTS = 6
FLOOD = """
import time
from dashboard.celery import app
for _ in range(3):
    app.send_task("snapshots.tasks.sync")
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    app.send_task("snapshots.tasks.track")
    app.send_task("snapshots.observability.tasks.evaluate_alerts")
    time.sleep(0.1)
for _ in range(3):
    app.send_task("snapshots.tasks.sync")
"""


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")
    return url


@pytest.fixture
def scratch_db(postgres_url):
    """A database of its own on the same server, dropped afterwards."""
    import psycopg

    name = f"scaleout_{uuid.uuid4().hex[:10]}"
    base = postgres_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_django(code: str, env: dict[str, str]) -> str:
    script = f"import django; django.setup()\n{code}"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def start_scaled_worker(env: dict[str, str], name: str) -> procs.Proc:
    """A worker without beat, named so its log lines can be told apart."""
    cmd = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--loglevel", "INFO"]
    cmd += ["--concurrency", "2", "--without-gossip", "--without-mingle", "-n", f"{name}@%h"]
    return procs.start(name, cmd, env=env, cwd=ROOT, keep=20000)


def succeeded(worker: procs.Proc, task: str) -> int:
    return sum(1 for line in list(worker.lines) if f"Task {task}[" in line and "succeeded" in line)


@pytest.mark.redis
def test_workers_share_the_ticks_without_duplicates(
    redis_url,  # noqa: F811 (the fixture imported above)
    scratch_db,
    sim,
    tmp_path,
    receiver,  # noqa: F811
):
    import psycopg

    sim.reset()
    clouds = tmp_path / "clouds.yaml"
    sim.write_clouds_yaml(clouds, "scale-test")
    broker = re.sub(r"/\d*$", "/9", redis_url)  # a database of its own on that Redis
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")},
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": scratch_db,
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
        "OS_CLOUD": "scale-test",
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "KEYSTONE_URL": sim.identity_url,
        "CINDER_NOAUTH_ENDPOINT": "",
        "ALERT_RETRY_BASE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    import redis

    redis.Redis.from_url(broker).flushdb()
    migrate(env, timeout=180)
    run_django(
        "from snapshots.models import AlertRule, Webhook\n"
        f"hook = Webhook.objects.create(name='h', url={receiver.url!r}, secret='s' * 16)\n"
        "rule = AlertRule.objects.create(name='errors', kind='error')\n"
        "rule.webhooks.add(hook)\n",
        env,
    )
    workers = [start_scaled_worker(env, f"w{i}") for i in range(WORKERS)]
    try:
        for worker in workers:
            worker.wait_for_line(" ready.", timeout=90)
        # Made now, so that the first sync sees them creating and track sees them finish.
        made = [
            sim.create_snapshot("alpha", status="creating", complete_in=8, name=f"scale-{i}")["id"]
            for i in range(SNAPSHOTS)
        ]
        failed = sim.create_snapshot("beta", status="error", name="scale-failed")["id"]

        # The beat's ticks, many times over and at once (sync first: it fills the mirror),
        # published the way the beat publishes them, from another process.
        subprocess.run([sys.executable, "-c", FLOOD], cwd=ROOT, env=env, check=True, timeout=120)

        def statuses() -> dict[str, str]:
            with psycopg.connect(scratch_db) as conn:
                rows = conn.execute(
                    "SELECT id, status FROM snapshots_snapshot WHERE id = ANY(%s)", (made,)
                ).fetchall()
            return dict(rows)

        client = redis.Redis.from_url(broker)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = statuses()
            if (
                len(done) == SNAPSHOTS
                and set(done.values()) == {"available"}
                and client.llen("celery") == 0
                and receiver.requests
            ):
                break
            time.sleep(0.5)
        time.sleep(3)  # let the last ticks in flight finish
        assert set(statuses().values()) == {"available"}, (
            statuses(),
            "\n".join(w.output() for w in workers),
        )
        with psycopg.connect(scratch_db) as conn:
            duplicates = conn.execute(
                "SELECT snapshot_id, from_status, to_status, COUNT(*) FROM "
                "snapshots_statuschange GROUP BY snapshot_id, from_status, to_status "
                "HAVING COUNT(*) > 1"
            ).fetchall()
            changes = conn.execute(
                "SELECT snapshot_id, from_status, to_status FROM snapshots_statuschange "
                "WHERE snapshot_id = ANY(%s) ORDER BY observed_at, id",
                (made,),
            ).fetchall()
            firings = conn.execute(
                "SELECT subject, fired_at IS NOT NULL FROM snapshots_alertfiring"
            ).fetchall()
            deliveries = conn.execute(
                "SELECT state, COUNT(*) FROM snapshots_alertdelivery GROUP BY state"
            ).fetchall()
            audit_dupes = conn.execute(
                "SELECT hash, COUNT(*) FROM snapshots_auditevent GROUP BY hash HAVING COUNT(*) > 1"
            ).fetchall()
        assert duplicates == []
        for sid in made:
            mine = [(f, t) for s, f, t in changes if s == sid]
            assert mine == [("", "creating"), ("creating", "available")], (sid, mine)
        assert firings == [(failed, True)]
        assert deliveries == [("sent", 1)]
        assert [(r.json["event"], r.json["subject"]) for r in receiver.requests] == [
            ("firing", failed)
        ]
        assert audit_dupes == []
        busy = [w.name for w in workers if succeeded(w, "snapshots.tasks.track")]
        assert len(busy) >= 2, f"only {busy} ran track ticks"
        for worker in workers:
            assert worker.alive(), worker.output()
    finally:
        for worker in workers:
            with contextlib.suppress(Exception):  # stop every one, whatever happens to one
                worker.stop()
