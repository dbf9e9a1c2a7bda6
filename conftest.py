"""Fixtures every suite shares: the cloud simulator over HTTP, signed-in clients, task recording.

Nothing here mocks openstacksdk or the gateway: tests reach the simulator through real HTTP.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sim():
    """One simulator process (demo cloud) for the whole run."""
    from cloudsim.testing import start_simulator

    simulator = start_simulator("--create-delay", "3", "--delete-delay", "2")
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """Every task a test asks for is recorded here instead of going to a broker.

    Tests assert on it, and may run the tasks themselves: `for name, kwargs in enqueued: ...`.
    """
    from snapshots.services import queue

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(queue, "send", lambda task, kwargs: sent.append((task, kwargs)))
    return sent


@pytest.fixture
def cloud(sim, settings, tmp_path):
    """A fresh demo cloud, and settings pointing the dashboard at it (keystone sign-in)."""
    from snapshots.cloud import credentials

    sim.reset()
    clouds = tmp_path / "clouds.yaml"
    sim.write_clouds_yaml(clouds, "test-service")
    settings.KEYSTONE_URL = sim.identity_url
    settings.DASHBOARD_AUTH = "keystone"
    settings.OS_CLOUD = "test-service"
    settings.OS_CLIENT_CONFIG_FILE = str(clouds)
    settings.CINDER_NOAUTH_ENDPOINT = ""
    settings.LOCAL_PROJECT_ID = ""
    credentials.reset_service_gateway()
    credentials.reset_local_project()
    yield sim
    credentials.reset_service_gateway()
    credentials.reset_local_project()


@pytest.fixture
def service_gateway(cloud):
    from snapshots.cloud import credentials

    return credentials.service_gateway()


@pytest.fixture
def user_gateway(cloud):
    """user_gateway("demo", "alpha") -> a Gateway with that user's project-scoped token."""
    from snapshots.cloud.credentials import keystone
    from snapshots.cloud.gateway import Gateway

    def make(user: str = "demo", project: str = "alpha"):
        ks = keystone()
        unscoped = ks.password(user, "secret", "Default")
        scoped = ks.scope(unscoped.token, cloud.project_id(project))
        return Gateway.for_token(
            token=scoped.token, endpoint=scoped.cinder_endpoint, project_id=scoped.project_id
        )

    return make


@pytest.fixture
def login(client, cloud):
    """login("admin", project="beta") signs the test client in through the real login form."""

    def sign_in(user: str = "demo", project: str | None = None, password: str = "secret"):
        response = client.post(
            "/auth/login/", {"username": user, "password": password, "domain": "Default"}
        )
        assert response.status_code == 302, response.content[:500]
        if project:
            response = client.post("/auth/project/", {"project_id": cloud.project_id(project)})
            assert response.status_code == 302
            assert client.session["cloud"]["project_id"] == cloud.project_id(project)
        return client

    return sign_in
