"""Multiprocess-safe counters: processes with PROMETHEUS_MULTIPROC_DIR add up in one scrape, a
dead process's counts stay, and the gunicorn hooks empty the directory and mark dead workers."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

COUNT = """
from snapshots.observability import metrics
for _ in range({n}):
    metrics.audit_event_written("create_snapshot", "denied")
"""

READ = """
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
print(generate_latest(registry).decode())
"""


def run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_counts_of_several_processes_add_up(tmp_path):
    run(COUNT.format(n=2), tmp_path)
    run(COUNT.format(n=3), tmp_path)
    text = run(READ, tmp_path)
    line = 'snapshot_dashboard_audit_events_total{action="create_snapshot",outcome="denied"} 5.0'
    assert line in text
    assert (
        'snapshot_dashboard_refused_actions_total{action="create_snapshot",'
        'refused_by="dashboard"} 5.0'
    ) in text


def test_gunicorn_hooks_empty_the_directory_and_mark_dead_workers(tmp_path, monkeypatch):
    directory = tmp_path / "prom"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"stale")
    (directory / "gauge_livesum_77.db").write_bytes(b"x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    config["on_starting"](None)
    assert directory.is_dir() and not any(directory.iterdir())

    (directory / "gauge_livesum_77.db").write_bytes(b"x")
    (directory / "counter_77.db").write_bytes(b"x")

    class Worker:
        pid = 77

    config["child_exit"](None, Worker())
    # live gauges of the dead worker go; its counters stay part of the totals
    assert sorted(p.name for p in directory.iterdir()) == ["counter_77.db"]


def test_a_celery_child_that_exits_is_marked_dead(tmp_path, monkeypatch):
    from snapshots.observability import metrics

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"x")
    (tmp_path / "counter_4242.db").write_bytes(b"x")
    metrics._child_exited(pid=4242)  # what worker_process_shutdown sends
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db"]


def test_a_worker_serves_its_metrics_on_its_port(settings):
    import socket
    import urllib.request

    from snapshots.observability import metrics

    settings.METRICS_WORKER_PORT = 0
    assert metrics._serve_worker_metrics() is None  # off by default
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.METRICS_WORKER_PORT = port
    settings.METRICS_WORKER_ADDR = "127.0.0.1"
    metrics.task_failed("tests.worker_port")
    server = metrics._serve_worker_metrics()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'snapshot_dashboard_task_failures_total{task="tests.worker_port"}' in text
