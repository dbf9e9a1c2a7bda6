"""Fixtures for the suite that runs against a real Cinder 29 + Keystone 30.

The cloud is started by `tests/realcloud/cloud.py up` (or `bash tests/realcloud/run.sh`, which
also runs this suite and stops the cloud), which writes a cloud.json. `REALCLOUD_FILE` points
at it. Without that variable the tests are skipped; with it, a cloud that does not answer is a
failure, never a skip.

Every test collected under tests/realcloud is marked `realcloud`, so `-m "not realcloud"`
(what `make test` uses) deselects the whole directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

HERE = Path(__file__).resolve().parent

WAIT_S = 60  # upper bound for a status change; the fake driver needs well under a second
POLL_S = 0.2


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the marks must be there before `-m` deselects
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.realcloud)


def _no_proxy_for_loopback() -> None:
    hosts = {"127.0.0.1", "localhost"}
    for key in ("no_proxy", "NO_PROXY"):
        current = {h for h in os.environ.get(key, "").split(",") if h}
        os.environ[key] = ",".join(sorted(current | hosts))


@dataclass
class RealCloud:
    """What cloud.json says about the running cloud, plus ways to connect to it."""

    doc: dict[str, Any]
    _conns: dict[tuple, Any] = field(default_factory=dict)

    # -- facts ----------------------------------------------------------------------------------
    @property
    def keystone_url(self) -> str:
        return self.doc["keystone_url"]

    @property
    def noauth_url(self) -> str:
        return self.doc["cinder_urls"]["noauth"]

    @property
    def keystone_cinder_url(self) -> str:
        return self.doc["cinder_urls"]["keystone"]

    @property
    def region(self) -> str:
        return self.doc["region"]

    @property
    def clouds_yaml(self) -> str:
        return self.doc["clouds_yaml"]

    def project_id(self, name: str) -> str:
        return self.doc["projects"][name]

    def password(self, user: str) -> str:
        return self.doc["users"][user]["password"]

    def role(self, user: str, project: str) -> str | None:
        return self.doc["users"][user]["roles"].get(project)

    def user_projects(self) -> list[tuple[str, str, str]]:
        """(user, project, role) for every demo user on every project it has a role on."""
        return [
            (user, project, role)
            for user, info in sorted(self.doc["users"].items())
            for project, role in sorted(info["roles"].items())
            if project in ("alpha", "beta", "gamma")
        ]

    def volumes(self, project: str) -> list[dict[str, Any]]:
        return self.doc["volumes"][project]

    def volume_id(self, project: str, index: int = 0) -> str:
        return self.doc["volumes"][project][index]["id"]

    # -- connections ----------------------------------------------------------------------------
    def connect(self, user: str, project: str):
        """An openstacksdk Connection with a real Keystone token (Keystone-protected Cinder)."""
        import openstack.connection

        key = ("keystone", user, project)
        if key not in self._conns:
            self._conns[key] = openstack.connection.Connection(
                auth_url=self.keystone_url,
                username=user,
                password=self.password(user),
                project_name=project,
                user_domain_name="Default",
                project_domain_name="Default",
                region_name=self.region,
                interface="public",
                identity_api_version="3",
            )
        return self._conns[key]

    def noauth_endpoint(self, project: str) -> str:
        return f"{self.noauth_url}/{self.project_id(project)}"

    def noauth_session(self, project: str, user: str = "admin"):
        """The keystoneauth Session that makes a noauth Cinder work with openstacksdk.

        Version discovery is sent without the plugin's token and noauth answers it with 204,
        so the token also goes into `additional_headers`: then discovery sees 3.0-3.71.
        """
        from keystoneauth1 import session as ks_session
        from keystoneauth1 import token_endpoint

        endpoint = self.noauth_endpoint(project)
        token = f"{self.doc['users'][user]['id']}:{self.project_id(project)}"
        return ks_session.Session(
            auth=token_endpoint.Token(endpoint, token),
            additional_headers={"X-Auth-Token": token},
        )

    def noauth(self, project: str, user: str = "admin"):
        """An openstacksdk Connection to the noauth Cinder (every caller is admin there)."""
        import openstack.connection

        key = ("noauth", user, project)
        if key not in self._conns:
            self._conns[key] = openstack.connection.Connection(
                session=self.noauth_session(project, user),
                block_storage_endpoint_override=self.noauth_endpoint(project),
            )
        return self._conns[key]

    # -- waiting ------------------------------------------------------------------------------
    def wait_gone(self, conn, snapshot_id: str, timeout: float = WAIT_S) -> None:
        """Wait until GET answers 404 (the snapshot is gone from Cinder)."""
        from openstack import exceptions

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn.block_storage.get_snapshot(snapshot_id)
            except exceptions.NotFoundException:
                return
            time.sleep(POLL_S)
        raise AssertionError(f"snapshot {snapshot_id} still exists after {timeout} s")

    def wait_status(self, conn, snapshot_id: str, status: str, timeout: float = WAIT_S):
        """Wait for `status` and return the snapshot; fail on an unexpected final status."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            snap = conn.block_storage.get_snapshot(snapshot_id)
            if not seen or seen[-1] != snap.status:
                seen.append(snap.status)
            if snap.status == status:
                return snap
            if snap.status in ("error", "error_deleting", "available") and snap.status != status:
                raise AssertionError(f"snapshot {snapshot_id} went {seen}, wanted {status}")
            time.sleep(POLL_S)
        raise AssertionError(f"snapshot {snapshot_id} still {seen} after {timeout} s")

    def close(self) -> None:
        for conn in self._conns.values():
            with contextlib.suppress(Exception):
                conn.close()
        self._conns.clear()


def _answers(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


@pytest.fixture(scope="session")
def realcloud() -> Iterator[RealCloud]:
    path = os.environ.get("REALCLOUD_FILE")
    if not path:
        pytest.fail("REALCLOUD_FILE is not set; run `bash tests/realcloud/run.sh`", pytrace=False)
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        pytest.fail(f"REALCLOUD_FILE={path} cannot be read: {exc}", pytrace=False)
    _no_proxy_for_loopback()
    checks = {
        f"Keystone {doc['keystone_url']}": (doc["keystone_url"], 200),
        "noauth cinder-api": (
            doc["cinder_urls"]["noauth"].rsplit("/v3", 1)[0] + "/healthcheck",
            200,
        ),
        "keystone cinder-api": (
            doc["cinder_urls"]["keystone"].rsplit("/v3", 1)[0] + "/healthcheck",
            200,
        ),
    }
    dead = [
        f"{what} ({url} answered {got})"
        for what, (url, want) in checks.items()
        if (got := _answers(url)) != want
    ]
    if dead:
        pytest.fail(
            f"REALCLOUD_FILE={path} is set but the cloud does not answer: {'; '.join(dead)}",
            pytrace=False,
        )
    cloud = RealCloud(doc)
    yield cloud
    cloud.close()


@pytest.fixture
def cleanup(realcloud: RealCloud) -> Iterator[Callable[[str, str], None]]:
    """`cleanup(project, snapshot_id)` registers a snapshot to force-delete after the test."""
    registered: list[tuple[str, str]] = []
    yield lambda project, snapshot_id: registered.append((project, snapshot_id))
    for project, snapshot_id in registered:
        conn = realcloud.noauth(project)
        with contextlib.suppress(Exception):
            conn.block_storage.delete_snapshot(snapshot_id, force=True)
        with contextlib.suppress(Exception):
            realcloud.wait_gone(conn, snapshot_id)
