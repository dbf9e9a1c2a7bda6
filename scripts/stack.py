"""Run the whole dashboard on one machine: `make run` calls this.

Starts, in order: the cloud simulator with the demo cloud (unless KEYSTONE_URL or
CINDER_NOAUTH_ENDPOINT point at a real cloud), the database migrations, a first sync, a Celery
worker with embedded beat on the embedded broker, the notification listener (when there is a
bus: the simulator's embedded one, or CINDER_NOTIFICATIONS_URL), and the web server. Ctrl-C
stops everything it started. Used by the browser tests too, so they test what a newcomer gets.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

CLOUDS_YAML = """\
# Written by scripts/stack.py for the demo cloud (the simulator). Not for production.
clouds:
  dashboard-demo:
    auth:
      auth_url: {identity}
      username: admin
      password: {password}
      project_name: alpha
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
"""


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


class Stack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.env = dict(os.environ)
        self.var = Path(self.env.get("DASHBOARD_VAR_DIR", ROOT / "var"))
        self.var.mkdir(parents=True, exist_ok=True)

    def spawn(self, name: str, cmd: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, start_new_session=True, **kwargs)
        self.procs.append((name, proc))
        return proc

    def start_simulator(self) -> None:
        if self.args.sim_url:
            url = self.args.sim_url.rstrip("/")
            log(f"using the cloud simulator on {url}")
        else:
            host, port = self.args.host, self.args.sim_port
            cmd = [PY, "-m", "cloudsim", "--host", host, "--port", str(port), "--seed", "demo"]
            cmd += ["--password", self.args.demo_password]
            if self.args.sim_state:
                cmd += ["--state", self.args.sim_state]
            # Cinder's notifications on an embedded bus the listener reads (event-driven mode).
            bus = f"filesystem://{self.var / 'notifications'}"
            cmd += ["--notify-url", bus]
            self.env.setdefault("CINDER_NOTIFICATIONS_URL", bus)
            proc = self.spawn("cloudsim", cmd, stdout=subprocess.PIPE, text=True)
            line = proc.stdout.readline() if proc.stdout else ""
            if "listening on" not in line:
                raise SystemExit(f"the cloud simulator did not start: {line.strip()}")
            url = line.strip().rsplit(" ", 1)[-1]
            log(f"cloud simulator (demo cloud) on {url}")
        identity = f"{url}/identity/v3"
        clouds = self.var / "clouds.yaml"
        clouds.write_text(CLOUDS_YAML.format(identity=identity, password=self.args.demo_password))
        clouds.chmod(0o600)
        self.env.setdefault("KEYSTONE_URL", identity)
        self.env.setdefault("OS_CLIENT_CONFIG_FILE", str(clouds))
        self.env.setdefault("OS_CLOUD", "dashboard-demo")

    def manage(self, *argv: str, check: bool = True) -> int:
        return subprocess.run(
            [PY, "manage.py", *argv], cwd=ROOT, env=self.env, check=check
        ).returncode

    def wait_http(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL we built
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{url} did not answer within {timeout:.0f} s")

    def run(self) -> int:
        self.env.setdefault("DEBUG", "1")
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        real_cloud = self.env.get("KEYSTONE_URL") or self.env.get("CINDER_NOAUTH_ENDPOINT")
        if not real_cloud and not self.args.no_sim:
            self.start_simulator()
        self.manage("migrate", "--noinput", "-v", "0")
        if self.manage("sync_snapshots", check=False) != 0:
            log("first sync failed; the worker will retry")
        self.spawn(
            "worker",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "-B",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(self.args.concurrency),
                "--schedule",
                str(self.var / "celerybeat-schedule"),
                "--without-gossip",
                "--without-mingle",
            ],
        )
        if self.env.get("CINDER_NOTIFICATIONS_URL"):
            self.spawn("listen", [PY, "manage.py", "listen_notifications"])
        web = f"{self.args.host}:{self.args.port}"
        if self.args.gunicorn:
            self.manage("collectstatic", "--noinput", "-v", "0")
            self.spawn(
                "web",
                [
                    PY,
                    "-m",
                    "gunicorn",
                    "dashboard.wsgi",
                    "-b",
                    web,
                    "-w",
                    "2",
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                ],
            )
        else:
            self.spawn("web", [PY, "manage.py", "runserver", web, "--noreload"])
        url = f"http://{web}/"
        self.wait_http(url + "healthz")
        log(f"dashboard ready on {url}")
        if not real_cloud and not self.args.no_sim:
            log(f"demo logins (password '{self.args.demo_password}', domain Default):")
            log("  demo     member of projects alpha and beta")
            log("  admin    admin of every project")
            log("  auditor  reader of every project (read-only, audit views)")
        log("press Ctrl-C to stop everything")
        return self.watch()

    def watch(self) -> int:
        while True:
            for name, proc in self.procs:
                code = proc.poll()
                if code is not None:
                    log(f"{name} exited with code {code}; stopping everything")
                    return code or 1
            time.sleep(0.5)

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        log("stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--sim-port", type=int, default=int(os.environ.get("SIM_PORT", 8776)))
    parser.add_argument("--sim-url", default="", help="a simulator that already runs there")
    parser.add_argument("--sim-state", default=os.environ.get("SIM_STATE", ""))
    parser.add_argument("--demo-password", default=os.environ.get("DEMO_PASSWORD", "secret"))
    parser.add_argument(
        "--no-sim", action="store_true", help="use the cloud configured in the environment"
    )
    parser.add_argument(
        "--gunicorn", action="store_true", help="serve with gunicorn instead of runserver"
    )
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    stack = Stack(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        return stack.run()
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
