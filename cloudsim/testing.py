"""Start and drive a simulator subprocess from tests and benchmarks."""

from __future__ import annotations

import atexit
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from scripts.procs import Proc

_RUNNING: list[Simulator] = []


class Simulator:
    """A running simulator subprocess."""

    def __init__(self, proc: Proc, url: str) -> None:
        self.proc = proc
        self.url = url
        self.identity_url = url + "/identity/v3"
        self.volume_url = url + "/volume/v3"
        # The same Cinder without Keystone (auth_strategy = noauth): token `user:project`.
        self.noauth_url = url + "/volume-noauth/v3"
        self.http = requests.Session()
        self._info: dict | None = None

    # -- control API -------------------------------------------------------------------------
    def _call(self, method: str, path: str, json: Any = None) -> Any:
        resp = self.http.request(method, self.url + path, json=json, timeout=60)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def info(self) -> dict:
        return self._call("GET", "/_sim/info")

    def _ids(self) -> dict:
        if self._info is None:
            self._info = self.info()
        return self._info

    def project_id(self, name: str) -> str:
        return self._ids()["projects"][name]

    def user_id(self, name: str) -> str:
        return self._ids()["users"][name]

    def volume_endpoint(self, project: str) -> str:
        """The catalog URL of Cinder for a project (name or id)."""
        pid = self._ids()["projects"].get(project, project)
        return f"{self.volume_url}/{pid}"

    def noauth_endpoint(self, project: str) -> str:
        """The noauth Cinder's URL for a project (name or id)."""
        pid = self._ids()["projects"].get(project, project)
        return f"{self.noauth_url}/{pid}"

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")

    def faults(self, **kw: Any) -> None:
        self._call("POST", "/_sim/faults", kw)

    def get_faults(self) -> dict:
        return self._call("GET", "/_sim/faults")

    def clear_faults(self) -> None:
        self._call("POST", "/_sim/faults/clear")

    def stats(self) -> dict:
        return self._call("GET", "/_sim/stats")

    def requests(self) -> list[dict]:
        """The most recent requests (method, path, route, microversion, status), oldest first."""
        return self._call("GET", "/_sim/requests")["requests"]

    def reset_stats(self) -> None:
        self._call("POST", "/_sim/stats/reset")

    def advance(self, seconds: float) -> None:
        self._call("POST", "/_sim/clock", {"advance": seconds})

    def create_volume(self, project: str, **kw: Any) -> dict:
        return self._call("POST", "/_sim/volumes", {"project": project, **kw})

    def create_snapshot(self, project: str, **kw: Any) -> dict:
        return self._call("POST", "/_sim/snapshots", {"project": project, **kw})

    def set_quota(self, project: str, **kw: Any) -> dict:
        return self._call("POST", "/_sim/quota", {"project": project, **kw})

    def token(
        self,
        username: str = "demo",
        project: str | None = "alpha",
        password: str = "secret",  # noqa: S107 (the demo password)
    ) -> str:
        """A Keystone token for the user (project-scoped unless project is None)."""
        auth: dict = {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": username, "domain": {"id": "default"}, "password": password}
                },
            }
        }
        if project is not None:
            auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
        resp = self.http.post(self.identity_url + "/auth/tokens", json={"auth": auth}, timeout=30)
        resp.raise_for_status()
        return resp.headers["X-Subject-Token"]

    def write_clouds_yaml(
        self,
        path: str | os.PathLike,
        cloud: str,
        username: str = "admin",
        project: str = "alpha",
        password: str = "secret",  # noqa: S107 (the demo password)
    ) -> Path:
        """Write a clouds.yaml with one password entry `cloud` for this simulator's Keystone."""
        target = Path(path)
        target.write_text(
            "clouds:\n"
            f"  {cloud}:\n"
            "    auth:\n"
            f"      auth_url: {self.identity_url}\n"
            f"      username: {username}\n"
            f"      password: {password}\n"
            f"      project_name: {project}\n"
            "      user_domain_name: Default\n"
            "      project_domain_name: Default\n"
            "    region_name: RegionOne\n"
            "    identity_api_version: 3\n"
        )
        return target

    def pause(self) -> None:
        """SIGSTOP: the simulator hangs (connections accepted by the kernel, never answered)."""
        self.proc.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.signal(signal.SIGCONT)

    def stop(self) -> None:
        self.proc.signal(signal.SIGCONT)  # a paused one cannot act on SIGTERM
        self.proc.stop(grace=10)
        self.http.close()
        if self in _RUNNING:
            _RUNNING.remove(self)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_all() -> None:
    for sim in list(_RUNNING):
        sim.stop()


atexit.register(_stop_all)


def start_simulator(*args: str, seed: str | None = "demo", timeout: float = 20) -> Simulator:
    """Run ``python -m cloudsim`` on a free port and wait until it listens."""
    from scripts import procs

    cmd = [sys.executable, "-m", "cloudsim", "--host", "127.0.0.1", "--port", "0"]
    if seed is not None:
        cmd += ["--seed", seed]
    cmd += list(args)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = procs.start("cloudsim", cmd, env=env, cwd=root)  # output drained in a thread
    try:
        line = proc.wait_for_line(lambda line: line.startswith("cloudsim listening on "), timeout)
    except procs.ProcessFailed as exc:
        proc.stop()
        raise RuntimeError(f"cloudsim did not start: {' '.join(cmd)}\n{exc}") from exc
    sim = Simulator(proc, line.split(" on ", 1)[1].strip())
    _RUNNING.append(sim)
    return sim
