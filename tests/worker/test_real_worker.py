"""One real `celery -A dashboard worker -B`, against the simulator over HTTP: on Redis (CI),
and on the embedded filesystem broker that `make run` uses.

A snapshot is made in the cloud; the test asks for it to be tracked the way an action does (a
`snapshots.tasks.track` message with its id, through Redis), and the beat-driven ticks of that
worker move it from `creating` to `available` in the mirror. Nothing is called in-process.

The worker and this test share a SQLite file of their own (the test reads it with the sqlite3
module): pytest-django's test database lives in memory, which another process cannot open.

The Redis one needs a server: REDIS_URL=redis://127.0.0.1:6390/0 python -m pytest -m redis
tests/worker (`make test` deselects the marker; CI selects it). With REDIS_URL set and Redis not
answering, it fails: a broken CI service must not look like a pass.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import procs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("needs a Redis server: set REDIS_URL (.ci/run does)", pytrace=False)
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={url} is set but Redis does not answer: {exc}")
    return url


def migrate(env: dict[str, str], timeout: float = 120) -> None:
    """The schema in the database `env` names, as a deploy would make it."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
    )


def start_worker(env: dict[str, str], schedule: Path) -> procs.Proc:
    """`celery worker -B` in its own process group, its output kept for the failure message."""
    cmd = [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "-B", "--loglevel", "INFO"]
    cmd += ["--concurrency", "1", "--without-gossip", "--without-mingle"]
    return procs.start("worker", [*cmd, "--schedule", str(schedule)], env=env, cwd=ROOT)


def mirror_rows(db: Path, snapshot_id: str) -> tuple[str | None, list[tuple[str, str, str]]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute(
            "SELECT status FROM snapshots_snapshot WHERE id = ?", (snapshot_id,)
        ).fetchone()
        changes = conn.execute(
            "SELECT from_status, to_status, source FROM snapshots_statuschange "
            "WHERE snapshot_id = ? ORDER BY observed_at, id",
            (snapshot_id,),
        ).fetchall()
    return (row[0] if row else None), [tuple(c) for c in changes]


def worker_moves_a_new_snapshot_to_available(sim, tmp_path: Path, broker: dict[str, str]):
    sim.reset()
    db = tmp_path / "mirror.sqlite3"
    clouds = tmp_path / "clouds.yaml"
    sim.write_clouds_yaml(clouds, "worker-test")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")},
        **broker,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
        "OS_CLOUD": "worker-test",
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "KEYSTONE_URL": sim.identity_url,
        "CINDER_NOAUTH_ENDPOINT": "",
        "DETECT_INTERVAL": "1",
        "SWEEP_INTERVAL": "3600",  # only detection may see the change: the test is about it
        "PYTHONUNBUFFERED": "1",
    }
    migrate(env)
    worker = start_worker(env, tmp_path / "beat-schedule")
    try:
        worker.wait_for_line(" ready.", timeout=60)
        made = sim.create_snapshot("alpha", status="creating", complete_in=6, name="e2e")

        # What an action does after creating a snapshot: ask for it to be tracked, by id,
        # through the broker, from another process (this one, with the worker's settings).
        ask = (
            "from dashboard.celery import app; "
            f"app.send_task('snapshots.tasks.track', kwargs={{'snapshot_id': {made['id']!r}}})"
        )
        subprocess.run([sys.executable, "-c", ask], cwd=ROOT, env=env, check=True, timeout=60)

        seen: list[str] = []
        changes: list[tuple[str, str, str]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, changes = mirror_rows(db, made["id"])
            if status and (not seen or seen[-1] != status):
                seen.append(status)
            if status == "available":
                break
            time.sleep(0.2)
        assert seen == ["creating", "available"], f"mirror went {seen}\n{worker.output()}"
        assert changes == [("", "creating", "track"), ("creating", "available", "track")]
        assert worker.alive(), worker.output()
    finally:
        worker.stop()


@pytest.mark.redis
def test_a_real_worker_on_redis_moves_a_new_snapshot_to_available(redis_url, sim, tmp_path):
    worker_moves_a_new_snapshot_to_available(
        sim, tmp_path, {"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url}
    )


def test_a_real_worker_on_the_embedded_broker_moves_a_new_snapshot_to_available(sim, tmp_path):
    worker_moves_a_new_snapshot_to_available(sim, tmp_path, {})
