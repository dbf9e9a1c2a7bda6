"""Run the whole dashboard on one machine: `make run` calls this.

Starts, in order: the cloud simulator with the demo cloud (unless KEYSTONE_URL or
CINDER_NOAUTH_ENDPOINT point at a real cloud), the database migrations, a first sync, a Celery
worker with embedded beat on the embedded broker, the notification listener (when there is a
bus: the simulator's embedded one, or CINDER_NOTIFICATIONS_URL), and the web server. Used by
the browser tests too, so they test what a newcomer gets.

Stopping: Ctrl-C (or SIGTERM) stops everything it started: SIGTERM to each process group, then
SIGKILL to what is left after a grace period (a worker stuck in warm shutdown included). A
second Ctrl-C while stopping skips the grace and kills at once. Every child runs in a process
group of its own, recorded in var/stack.json: if this process itself dies (kill -9, a crash),
the next `make run` finds what it left, names it and stops it before it starts anything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import procs  # noqa: E402 - needs ROOT on the path when run as a script

PY = sys.executable
PID_FILE = "stack.json"

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


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def listener_of(port: int) -> str:
    """Who listens on `port` (pid and command line), as far as this user may see."""
    try:
        import psutil

        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
                return f"pid {conn.pid}: {cmdline(conn.pid) or '?'}"
    except Exception:  # noqa: S110 - naming the holder is a courtesy; the port check stands
        pass
    return "a process this user cannot see"


class Leftovers:
    """What a previous run recorded in var/stack.json, and whether it is still there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def owner_alive(self) -> bool:
        pid = self.data.get("pid")
        return bool(pid) and pid != os.getpid() and "stack.py" in cmdline(pid)

    def groups(self) -> list[dict]:
        """Recorded children whose group still runs the command it was started with."""
        alive = []
        for child in self.data.get("children", []):
            pgid = child["pgid"]
            # A live group whose leader is gone is still the one we started (Linux does not
            # hand out a pid that is a live group's id); a live leader must be the same command.
            leader = cmdline(pgid)
            if procs.group_alive(pgid) and (not leader or leader == child["cmdline"]):
                alive.append(child)
        return alive

    def clear(self, grace: float) -> list[dict]:
        """Stop (TERM, grace, KILL) what a dead run left behind; the ones found."""
        found = self.groups()
        for child in found:
            what = f"{child['name']} (process group {child['pgid']}: {child['cmdline'][:100]})"
            log(f"left over from a run that did not stop cleanly: {what}; stopping it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child["pgid"], signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(procs.group_alive(c["pgid"]) for c in found):
            time.sleep(0.1)
        for child in found:
            if procs.group_alive(child["pgid"]):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child["pgid"], signal.SIGKILL)
        self.path.unlink(missing_ok=True)
        return found


class Stack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs: list[procs.Proc] = []
        self.env = dict(os.environ)
        self.var = Path(self.env.get("DASHBOARD_VAR_DIR", ROOT / "var"))
        self.var.mkdir(parents=True, exist_ok=True)
        self.pid_file = self.var / PID_FILE
        self.stopping = False
        self.recorded = False

    # --- before starting: a run still going, leftovers of a dead one, ports in use ----------
    def preflight(self) -> None:
        previous = Leftovers(self.pid_file)
        if previous.owner_alive():
            raise SystemExit(
                f"another `make run` is running (pid {previous.data['pid']}, started "
                f"{previous.data.get('started', '?')}); stop it first (Ctrl-C in its terminal, "
                f"or kill {previous.data['pid']})"
            )
        previous.clear(self.args.grace)
        ports = [self.args.port, *([self.args.live_port] if self.args.live_port else [])]
        if not self.args.sim_url and not self.real_cloud():
            ports.append(self.args.sim_port)
        for port in ports:
            if procs.port_open(port, self.args.host):
                raise SystemExit(
                    f"port {port} on {self.args.host} is in use by {listener_of(port)}; stop "
                    "that or choose another port (make run PORT=... SIM_PORT=...)"
                )
        self.record()

    def record(self) -> None:
        data = {
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "children": [
                {"name": p.name, "pgid": p.pid, "cmdline": " ".join(p.cmd)} for p in self.procs
            ],
        }
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.pid_file)
        self.recorded = True

    def spawn(self, name: str, cmd: list[str], **kwargs) -> procs.Proc:
        proc = procs.start(name, cmd, env=self.env, cwd=ROOT, **kwargs)
        self.procs.append(proc)
        self.record()
        return proc

    def real_cloud(self) -> bool:
        return bool(self.env.get("KEYSTONE_URL") or self.env.get("CINDER_NOAUTH_ENDPOINT"))

    # --- starting ---------------------------------------------------------------------------
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
            proc = self.spawn("cloudsim", cmd, echo=False)
            line = proc.wait_for_line("listening on", timeout=30)
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

    def run(self) -> int:
        self.env.setdefault("DEBUG", "1")
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        real_cloud = self.real_cloud()
        self.preflight()
        if not real_cloud and not self.args.no_sim:
            self.start_simulator()
        self.manage("migrate", "--noinput", "-v", "0")
        if self.manage("sync_snapshots", check=False) != 0:
            log("first sync failed; the worker will retry")
        worker = [PY, "-m", "celery", "-A", "dashboard", "worker", "-B", "--loglevel", "INFO"]
        worker += ["--concurrency", str(self.args.concurrency)]
        worker += ["--schedule", str(self.var / "celerybeat-schedule")]
        self.spawn("worker", [*worker, "--without-gossip", "--without-mingle"], capture=False)
        if self.env.get("CINDER_NOTIFICATIONS_URL"):
            self.spawn("listen", [PY, "manage.py", "listen_notifications"], capture=False)
        web = f"{self.args.host}:{self.args.port}"
        if self.args.gunicorn:
            self.manage("collectstatic", "--noinput", "-v", "0")
            cmd = [PY, "-m", "gunicorn", "dashboard.wsgi", "-b", web, "-w", "2", "--threads", "4"]
            self.spawn("web", [*cmd, "--access-logfile", "-"], capture=False)
        else:
            self.spawn("web", [PY, "manage.py", "runserver", web, "--noreload"], capture=False)
        url = f"http://{web}/"
        procs.wait_url(url + "healthz", timeout=60, proc=self.procs[-1])
        log(f"dashboard ready on {url}")
        if self.args.live_port:
            live = [PY, "-m", "uvicorn", "dashboard.asgi:application", "--host", self.args.host]
            live += ["--port", str(self.args.live_port), "--timeout-graceful-shutdown", "2"]
            self.spawn("live", [*live, "--no-access-log"], capture=False)
            live_url = f"http://{self.args.host}:{self.args.live_port}/"
            procs.wait_url(live_url + "healthz", timeout=60, proc=self.procs[-1])
            log(f"the same dashboard, changes pushed to open tabs (uvicorn): {live_url}")
        if not real_cloud and not self.args.no_sim:
            log(f"demo logins (password '{self.args.demo_password}', domain Default):")
            log("  demo     member of projects alpha and beta")
            log("  admin    admin of every project")
            log("  auditor  reader of every project (read-only, audit views)")
        log("press Ctrl-C to stop everything (twice to kill at once)")
        return self.watch()

    def watch(self) -> int:
        while True:
            for proc in self.procs:
                code = proc.returncode
                if code is not None:
                    log(f"{proc.name} exited with code {code}; stopping everything")
                    return code or 1
            time.sleep(0.5)

    # --- stopping ---------------------------------------------------------------------------
    def kill_now(self, *_: object) -> None:
        """A second Ctrl-C (or SIGTERM) while stopping: SIGKILL every group, no more grace."""
        for proc in self.procs:
            proc.kill()

    def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        signal.signal(signal.SIGINT, self.kill_now)
        signal.signal(signal.SIGTERM, self.kill_now)
        if not self.procs:
            return
        log(f"stopping (up to {self.args.grace:.0f} s; Ctrl-C again to kill at once)")
        procs.stop_all(reversed(self.procs), grace=self.args.grace)
        if self.recorded:
            self.pid_file.unlink(missing_ok=True)
        log("stopped")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
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
    parser.add_argument(
        "--live-port", type=int, default=int(os.environ.get("LIVE_PORT") or 0),
        help="also serve the dashboard on uvicorn there, with changes pushed to open tabs",
    )  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--grace", type=float, default=float(os.environ.get("STACK_STOP_GRACE", 10)),
        help="seconds a process may take to stop before it is killed",
    )  # fmt: skip
    parser.add_argument(
        "--clean", action="store_true",
        help="only stop what a run that did not stop cleanly left behind, then exit",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stack = Stack(args)
    if args.clean:
        found = Leftovers(stack.pid_file).clear(args.grace)
        log(f"stopped {len(found)} leftover process group(s)" if found else "nothing left over")
        return 0

    def interrupted(signum, frame):
        # From now on a further signal kills at once, even before stop() begins.
        signal.signal(signal.SIGINT, stack.kill_now)
        signal.signal(signal.SIGTERM, stack.kill_now)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        return stack.run()
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
