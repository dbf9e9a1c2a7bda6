"""`make run` (scripts/stack.py) always cleans up, with real processes and real signals:
a second Ctrl-C kills at once instead of abandoning the children; a child deaf to SIGTERM (a
worker stuck in warm shutdown) is killed after the grace period; what a run that was itself
killed left behind is named and stopped by the next run; a port held by someone else is named.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts import procs

ROOT = Path(__file__).resolve().parents[2]
CLEARED = ("KEYSTONE_URL", "OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "CINDER_NOAUTH_ENDPOINT")
CLEARED += ("REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")


@pytest.fixture
def stack_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    var = tmp_path / "var"
    env.update(
        {
            "DASHBOARD_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var}/dashboard.sqlite3",
            "SWEEP_INTERVAL": "3600",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start_stack(env: dict[str, str], port: int, sim_port: int) -> procs.Proc:
    cmd = [sys.executable, "scripts/stack.py", "--port", str(port), "--sim-port", str(sim_port)]
    proc = procs.start("stack", [*cmd, "--grace", "5", "--concurrency", "1"], env=env, keep=20000)
    proc.wait_for_line("dashboard ready", timeout=120)
    return proc


def children(env: dict[str, str]) -> list[dict]:
    return json.loads((Path(env["DASHBOARD_VAR_DIR"]) / "stack.json").read_text())["children"]


def test_a_killed_run_is_cleared_by_the_next_and_a_second_ctrl_c_kills_at_once(stack_env):
    port, sim_port = procs.free_port(), procs.free_port()
    first = start_stack(stack_env, port, sim_port)
    left = children(stack_env)
    assert {c["name"] for c in left} == {"cloudsim", "worker", "listen", "web"}
    first.popen.kill()  # the supervisor alone dies (kill -9): its children live on
    first.popen.wait(10)
    assert all(procs.group_alive(c["pgid"]) for c in left)

    second = start_stack(stack_env, port, sim_port)
    try:
        for child in left:
            second.wait_for_line(f"left over from a run that did not stop cleanly: {child['name']}")
            assert not procs.group_alive(child["pgid"]), child
        mine = children(stack_env)

        second.popen.send_signal(signal.SIGINT)  # Ctrl-C ...
        second.wait_for_line("stopping", timeout=10)
        second.popen.send_signal(signal.SIGINT)  # ... and, impatient, Ctrl-C again
        second.popen.wait(timeout=15)
        procs.wait_until(
            "every process group gone",
            lambda: not any(procs.group_alive(c["pgid"]) for c in mine),
            timeout=5,
        )
        assert second.count("Traceback") == 0, second.output()
        assert not (Path(stack_env["DASHBOARD_VAR_DIR"]) / "stack.json").exists()
    finally:
        second.stop(grace=5)
        for child in left + children_or_none(stack_env):
            if procs.group_alive(child["pgid"]):
                os.killpg(child["pgid"], signal.SIGKILL)


def children_or_none(env: dict[str, str]) -> list[dict]:
    try:
        return children(env)
    except OSError:
        return []


DRIVER = textwrap.dedent(
    """
    import sys, time
    from scripts.stack import Stack, parse_args
    stack = Stack(parse_args(["--grace", "2"]))
    deaf = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('deaf', flush=True); time.sleep(600)"]
    proc = stack.spawn("worker", deaf)
    proc.wait_for_line("deaf")
    print("pgid", proc.pid, flush=True)
    started = time.monotonic()
    stack.stop()
    print("stopped after", round(time.monotonic() - started, 1), flush=True)
    """
)


def test_a_child_deaf_to_sigterm_is_killed_after_the_grace(stack_env):
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pgid = int(done.stdout.split("pgid ")[1].split()[0])
    seconds = float(done.stdout.split("stopped after ")[1].split()[0])
    assert not procs.group_alive(pgid)
    assert 2 <= seconds < 10


def test_a_port_in_use_is_named_before_anything_starts(stack_env):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "scripts/stack.py", "--port", str(port), "--sim-url", "http://x"],
            cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use by pid {os.getpid()}" in done.stderr
    assert not (Path(stack_env["DASHBOARD_VAR_DIR"]) / "stack.json").exists()
