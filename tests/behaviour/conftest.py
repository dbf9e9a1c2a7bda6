"""One behavioural suite, several clouds: the simulator (always) and a real Cinder 29 + Keystone 30.

Every test here takes the `backend` fixture, parametrised over

- `sim`: a cloudsim process of its own (seed `empty`, plus three 1 GiB volumes per project named
  like the real cloud's), Keystone-protected Cinder at `/volume/v3`, noauth Cinder at
  `/volume-noauth/v3`;
- `real`: the cloud `tests/realcloud/cloud.py up` started, read from `REALCLOUD_FILE`. The param
  carries `pytest.mark.realcloud`, so `make test` (`-m "not realcloud ..."`) runs the sim variants
  and `tests/realcloud/run.sh` (`-m realcloud`) the real ones. A real cloud that is configured but
  does not answer fails every real test; it is never skipped.

Neither cloud is reset between tests (a real one cannot be): each test makes the snapshots it
needs, under a name unique to it, asserts on those, and force-deletes them afterwards. Changes
"outside the dashboard" go through a Gateway holding an admin token: the same path on both clouds,
never the simulator's /_sim control API. `backend.wait_until(predicate)` moves time on: the
simulator's clock is pushed forward, the real cloud is polled.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

PASSWORD = "secret"
PROJECTS = ("alpha", "beta", "gamma")
USERS = ("demo", "admin", "auditor")
SIM_STEP = 0.5  # simulator seconds per wait_until round
POLL = 0.2  # real seconds between two checks


class Backend(ABC):
    """What the suite needs from a cloud, the same on the simulator and on a real one."""

    name: str
    keystone_url: str
    region = "RegionOne"

    def __init__(self) -> None:
        self._gateways: dict[tuple[str, str], Any] = {}

    # -- facts ----------------------------------------------------------------------------------
    @abstractmethod
    def project_id(self, name: str) -> str: ...

    @abstractmethod
    def user_id(self, name: str) -> str: ...

    @abstractmethod
    def volume_ids(self, project: str) -> list[str]:
        """The project's three available 1 GiB volumes, oldest first."""
        ...

    @abstractmethod
    def noauth_endpoint(self, project: str) -> str: ...

    @abstractmethod
    def service_cloud(self, tmp_path: Path) -> tuple[str, str]:
        """(OS_CLOUD, OS_CLIENT_CONFIG_FILE) of an admin service credential."""
        ...

    # -- settings -------------------------------------------------------------------------------
    def use_keystone(self, settings, tmp_path: Path) -> None:
        """The dashboard signs people in with Keystone; workers use clouds.yaml."""
        from snapshots.cloud import credentials

        cloud, config_file = self.service_cloud(tmp_path)
        settings.DASHBOARD_AUTH = "keystone"
        settings.KEYSTONE_URL = self.keystone_url
        settings.KEYSTONE_REGION = self.region
        settings.OS_CLOUD = cloud
        settings.OS_CLIENT_CONFIG_FILE = config_file
        settings.CINDER_NOAUTH_ENDPOINT = ""
        settings.LOCAL_PROJECT_ID = ""
        credentials.reset_service_gateway()
        credentials.reset_local_project()

    def use_local(self, settings, project: str = "alpha") -> None:
        """Local sign-in and a service credential for the noauth Cinder (no Keystone at all)."""
        from snapshots.cloud import credentials

        settings.DASHBOARD_AUTH = "local"
        settings.KEYSTONE_URL = ""
        settings.CINDER_NOAUTH_ENDPOINT = self.noauth_endpoint(project)
        settings.CINDER_NOAUTH_TOKEN = f"dashboard:{self.project_id(project)}"
        settings.LOCAL_PROJECT_ID = ""
        credentials.reset_service_gateway()
        credentials.reset_local_project()

    # -- connections ----------------------------------------------------------------------------
    def keystone(self):
        from snapshots.cloud.identity import Keystone

        return Keystone(self.keystone_url, timeout=30, region=self.region)

    def gateway(self, user: str, project: str):
        """A Gateway holding `user`'s token scoped to `project` (Keystone-protected Cinder)."""
        from snapshots.cloud.gateway import Gateway

        key = (user, project)
        if key not in self._gateways:
            ks = self.keystone()
            unscoped = ks.password(user, PASSWORD, "Default")
            scoped = ks.scope(unscoped.token, self.project_id(project))
            self._gateways[key] = Gateway.for_token(
                token=scoped.token,
                endpoint=scoped.cinder_endpoint,
                project_id=scoped.project_id,
                timeout=30,
            )
        return self._gateways[key]

    def outside(self, project: str = "alpha"):
        """An admin's Gateway for changes made outside the dashboard."""
        return self.gateway("admin", project)

    # -- time -----------------------------------------------------------------------------------
    def wait_until(self, predicate: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
        """Re-check `predicate` while time moves on; its first truthy value, or fail."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: not within {timeout} s: {what or predicate}")
            self.tick()

    def tick(self) -> None:
        time.sleep(POLL)

    def wait_status(self, project: str, snapshot_id: str, status: str, timeout: float = 30):
        gateway = self.outside(project)
        return self.wait_until(
            lambda: (s := gateway.get_snapshot(snapshot_id)).status == status and s,
            timeout,
            f"snapshot {snapshot_id} {status}",
        )

    def wait_gone(self, project: str, snapshot_id: str, timeout: float = 30) -> None:
        from snapshots.cloud import errors

        gateway = self.outside(project)

        def gone() -> bool:
            try:
                gateway.get_snapshot(snapshot_id)
            except errors.NotFound:
                return True
            return False

        self.wait_until(gone, timeout, f"snapshot {snapshot_id} gone")

    def close(self) -> None:
        self._gateways.clear()


class SimBackend(Backend):
    name = "sim"

    def __init__(self) -> None:
        super().__init__()
        from cloudsim.testing import start_simulator

        self.sim = start_simulator(
            "--create-delay", "1", "--delete-delay", "1", "--token-ttl", "864000", seed="empty"
        )
        self.keystone_url = self.sim.identity_url
        # Like the real cloud: three available 1 GiB volumes per project (setting the stage
        # is the only use of the control API; tests change things through Cinder's API).
        self._volumes = {
            project: [
                self.sim.create_volume(project, name=f"{project}-vol-{n}", size=1)["id"]
                for n in (1, 2, 3)
            ]
            for project in PROJECTS
        }

    def project_id(self, name: str) -> str:
        return self.sim.project_id(name)

    def user_id(self, name: str) -> str:
        return self.sim.user_id(name)

    def volume_ids(self, project: str) -> list[str]:
        return self._volumes[project]

    def noauth_endpoint(self, project: str) -> str:
        return self.sim.noauth_endpoint(project)

    def service_cloud(self, tmp_path: Path) -> tuple[str, str]:
        path = tmp_path / "clouds.yaml"
        self.sim.write_clouds_yaml(path, "behaviour-service")
        return "behaviour-service", str(path)

    def tick(self) -> None:
        self.sim.advance(SIM_STEP)
        time.sleep(POLL / 2)

    def close(self) -> None:
        super().close()
        self.sim.stop()


class RealBackend(Backend):
    name = "real"

    def __init__(self, doc: dict) -> None:
        super().__init__()
        self.doc = doc
        self.keystone_url = doc["keystone_url"]
        self.region = doc["region"]

    def project_id(self, name: str) -> str:
        return self.doc["projects"][name]

    def user_id(self, name: str) -> str:
        return self.doc["users"][name]["id"]

    def volume_ids(self, project: str) -> list[str]:
        return [v["id"] for v in self.doc["volumes"][project]]

    def noauth_endpoint(self, project: str) -> str:
        return f"{self.doc['cinder_urls']['noauth']}/{self.project_id(project)}"

    def service_cloud(self, tmp_path: Path) -> tuple[str, str]:
        return self.doc["service_cloud"], self.doc["clouds_yaml"]


def _loopback_without_proxy() -> None:
    for key in ("no_proxy", "NO_PROXY"):
        hosts = {h for h in os.environ.get(key, "").split(",") if h} | {"127.0.0.1", "localhost"}
        os.environ[key] = ",".join(sorted(hosts))


def _real_backend() -> RealBackend:
    path = os.environ.get("REALCLOUD_FILE")
    if not path:
        pytest.fail(
            "REALCLOUD_FILE is not set: run `bash tests/realcloud/run.sh` (make realcloud)",
            pytrace=False,
        )
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        pytest.fail(f"REALCLOUD_FILE={path} cannot be read: {exc}", pytrace=False)
    _loopback_without_proxy()
    checks = [
        doc["keystone_url"],
        doc["cinder_urls"]["keystone"].rsplit("/v3", 1)[0] + "/healthcheck",
        doc["cinder_urls"]["noauth"].rsplit("/v3", 1)[0] + "/healthcheck",
    ]
    dead = []
    for url in checks:
        try:
            status = requests.get(url, timeout=5).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        if status != 200:
            dead.append(f"{url} -> {status}")
    if dead:
        pytest.fail(
            f"REALCLOUD_FILE={path} is set but the cloud does not answer: {'; '.join(dead)}",
            pytrace=False,
        )
    return RealBackend(doc)


@pytest.fixture(
    scope="session",
    params=[pytest.param("sim"), pytest.param("real", marks=pytest.mark.realcloud)],
)
def backend(request) -> Iterator[Backend]:
    made = SimBackend() if request.param == "sim" else _real_backend()
    yield made
    made.close()


@pytest.fixture
def keystone_mode(backend, settings, tmp_path, db) -> Backend:
    """DASHBOARD_AUTH=keystone against the backend's Keystone; service credential clouds.yaml."""
    backend.use_keystone(settings, tmp_path)
    yield backend
    _forget_service_gateway()


@pytest.fixture
def local_mode(backend, settings, db) -> Backend:
    """DASHBOARD_AUTH=local; the service credential is the noauth Cinder (project alpha)."""
    from django.contrib.auth.models import Group

    backend.use_local(settings)
    for name in ("snapshot-readers", "snapshot-members", "snapshot-admins"):
        Group.objects.get_or_create(name=name)
    yield backend
    _forget_service_gateway()


def _forget_service_gateway() -> None:
    from snapshots.cloud import credentials

    credentials.reset_service_gateway()
    credentials.reset_local_project()


@pytest.fixture
def tag() -> str:
    """A word unique to this test, for the names of the snapshots it makes."""
    return f"bt{uuid.uuid4().hex[:10]}"


@pytest.fixture
def made(backend) -> Iterator[Callable[[str, str], str]]:
    """`made(project, snapshot_id)` registers a snapshot to force-delete after the test."""
    ours: list[tuple[str, str]] = []

    def register(project: str, snapshot_id: str) -> str:
        ours.append((project, snapshot_id))
        return snapshot_id

    yield register
    from snapshots.cloud import errors

    for project, snapshot_id in ours:
        with contextlib.suppress(errors.CloudError):
            backend.outside(project).force_delete_snapshot(snapshot_id)
