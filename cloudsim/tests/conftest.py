"""One simulator for the whole session, reset before every test."""

from __future__ import annotations

import warnings

import pytest
import requests
from openstack import connection

from cloudsim.testing import Simulator, start_simulator

PASSWORD = "secret"


@pytest.fixture(scope="session")
def sim() -> Simulator:
    simulator = start_simulator("--create-delay", "3", "--delete-delay", "2")
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _reset(sim: Simulator) -> None:
    sim.reset()


def make_conn(
    sim: Simulator, user: str = "demo", project: str = "alpha", *, password: str = PASSWORD, **kw
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return connection.Connection(
            auth_url=sim.identity_url,
            username=user,
            password=password,
            project_name=project,
            user_domain_name="Default",
            project_domain_name="Default",
            region_name="RegionOne",
            **kw,
        )


@pytest.fixture
def conn(sim: Simulator):
    """demo, a member of alpha."""
    c = make_conn(sim)
    yield c
    c.close()


@pytest.fixture
def admin_conn(sim: Simulator):
    c = make_conn(sim, "admin", "alpha")
    yield c
    c.close()


@pytest.fixture
def reader_conn(sim: Simulator):
    c = make_conn(sim, "auditor", "alpha")
    yield c
    c.close()


class Raw:
    """Plain HTTP calls against Cinder with a token, for status codes and envelopes."""

    def __init__(self, sim: Simulator, user: str = "demo", project: str = "alpha") -> None:
        self.sim = sim
        self.token = sim.token(user, project)
        self.project_id = sim.project_id(project)
        self.base = f"{sim.url}/volume/v3/{self.project_id}"
        self.http = requests.Session()

    def __call__(self, method: str, path: str, mv: str | None = "3.65", **kw) -> requests.Response:
        headers = {"X-Auth-Token": self.token, **kw.pop("headers", {})}
        if mv is not None:
            headers["OpenStack-API-Version"] = f"volume {mv}"
        url = path if path.startswith("http") else self.base + path
        return self.http.request(method, url, headers=headers, timeout=30, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self("GET", path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self("POST", path, **kw)

    def put(self, path: str, **kw) -> requests.Response:
        return self("PUT", path, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self("DELETE", path, **kw)


@pytest.fixture
def raw(sim: Simulator) -> Raw:
    return Raw(sim)


@pytest.fixture
def raw_admin(sim: Simulator) -> Raw:
    return Raw(sim, "admin", "alpha")


@pytest.fixture
def raw_reader(sim: Simulator) -> Raw:
    return Raw(sim, "auditor", "alpha")


# The repository's top-level conftest prepares Django for the dashboard's suites. These tests
# only talk HTTP to the simulator, so its autouse fixtures are replaced by no-ops here.
@pytest.fixture(autouse=True)
def _test_settings() -> None:
    return None


@pytest.fixture(autouse=True)
def enqueued() -> list:
    return []
