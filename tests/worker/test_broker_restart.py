"""A real `celery -A dashboard worker` survives its Redis going away and coming back.

With kombu 5.7.0 a worker waiting on Redis while a task runs died when Redis restarted
(`AttributeError: 'NoneType' object has no attribute 'hostname'` while restoring the unacked
message; see dashboard/celery.py). Here a Redis of the test's own is stopped and started again
under a worker that holds a task in flight (the cloud it calls never answers), and the worker
must still be running and take new work afterwards.

Needs the redis-server binary (.ci/run installs it): `python -m pytest -m redis tests/worker`.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from scripts import procs
from tests.production.servers import MissingServer, RedisServer
from tests.worker.test_real_worker import migrate

ROOT = Path(__file__).resolve().parents[2]
CELERY = [sys.executable, "-m", "celery", "-A", "dashboard"]
QUIET = ["--without-gossip", "--without-mingle"]
pytestmark = pytest.mark.redis


class SilentCloud:
    """A TCP port that accepts connections and never answers: every cloud call hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_the_worker_survives_a_redis_restart_with_a_task_in_flight(tmp_path, monkeypatch):
    # The client below must use this test's Redis: Celery reads CELERY_BROKER_URL from the
    # environment before its `broker=` argument (CI sets it to the suite's own Redis).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    try:
        redis = RedisServer().start()
    except MissingServer as exc:
        pytest.fail(str(exc), pytrace=False)
    cloud = SilentCloud()
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  silent:\n    auth:\n"
        f"      auth_url: http://127.0.0.1:{cloud.port}/identity/v3\n"
        "      username: admin\n      password: secret\n      project_name: alpha\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
        "    identity_api_version: 3\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "CELERY_BROKER_URL": redis.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
        "OS_CLOUD": "silent",
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "CLOUD_TIMEOUT": "30",
        "PYTHONUNBUFFERED": "1",
    }
    migrate(env)
    worker = procs.start(
        "worker",
        [*CELERY, "worker", "--loglevel", "INFO", "--concurrency", "2", *QUIET],
        env=env,
    )
    client = Celery(broker=redis.url)
    try:
        worker.wait_for_line(" ready.", timeout=60)
        # A task that hangs on the cloud: unacknowledged while the worker waits for more.
        client.send_task("snapshots.tasks.track", kwargs={"snapshot_id": "in-flight"})
        worker.wait_for_line("Task snapshots.tasks.track[", timeout=30)
        time.sleep(1)

        redis.stop()
        worker.wait_for_line("Connection to broker lost", timeout=30)
        time.sleep(3)
        redis.start()
        procs.wait_until(
            "the worker reconnecting",
            lambda: worker.count("Connected to redis://") >= 2,
            timeout=60,
            proc=worker,
        )
        time.sleep(2)
        assert worker.alive(), worker.output()
        assert "AttributeError" not in worker.output(400), worker.output(120)

        # And it still takes work.
        task_id = f"after-restart-{uuid.uuid4()}"
        client = Celery(broker=redis.url)  # a new connection to the new server
        client.send_task("snapshots.tasks.track", kwargs={"snapshot_id": "x"}, task_id=task_id)
        worker.wait_for_line(f"[{task_id}] received", timeout=30)
        assert worker.alive(), worker.output()
    finally:
        worker.stop(grace=5)
        redis.stop()
        cloud.close()
