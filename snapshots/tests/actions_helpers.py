"""Helpers for the action tests: real sign-ins, a mirror filled from the simulator, sim lookups.

Nothing is mocked: scopes come from real Keystone tokens of the simulator, gateways talk to it over
HTTP, and the mirror is filled the way the sync worker fills it (mirror.apply of every snapshot).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud.credentials import keystone, service_gateway
from snapshots.cloud.gateway import Gateway
from snapshots.middleware import scope_from_session
from snapshots.models import Snapshot
from snapshots.permissions import Scope
from snapshots.services import mirror
from snapshots.services.snapshots import Caller
from snapshots.services.sync import sync_snapshots
from snapshots.tests.paging import snapshot_pages


@dataclass
class Actor:
    scope: Scope
    gateway: Gateway

    def caller(self, key: str = "", client_addr: str | None = None) -> Caller:
        return Caller(self.scope, self.gateway, client_addr, key)

    def run(self, service: Callable[..., Any], idempotency_key: str = "", **arguments: Any) -> Any:
        """Call an action service as this person (no client address)."""
        return service(caller=self.caller(idempotency_key), **arguments)


def actor(cloud, user: str = "demo", project: str = "alpha", timeout: float = 15.0) -> Actor:
    """The scope and the gateway a signed-in `user` working in `project` gets (`timeout`: how
    long its calls wait for an answer)."""
    ks = keystone()
    unscoped = ks.password(user, "secret", "Default")
    projects = ks.projects(unscoped.token)
    scoped = ks.scope(unscoped.token, cloud.project_id(project))
    scope = scope_from_session(
        {
            "user_id": scoped.user_id,
            "user_name": scoped.user_name,
            "project_id": scoped.project_id,
            "project_name": scoped.project_name,
            "roles": list(scoped.roles),
            "projects": [[p.id, p.name] for p in projects],
        }
    )
    gateway = Gateway.for_token(
        token=scoped.token,
        endpoint=scoped.cinder_endpoint,
        project_id=scoped.project_id,
        timeout=timeout,
    )
    return Actor(scope=scope, gateway=gateway)


def unreachable(who: Actor) -> Actor:
    """The same person with a gateway whose Cinder refuses connections: the request provably
    never reaches it (nothing listens on the port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = Gateway.for_token(
        token="unused", endpoint=f"http://127.0.0.1:{port}/volume/v3/x", project_id="x"
    )
    return Actor(scope=who.scope, gateway=gateway)


def mirror_volumes() -> int:
    """Copy every volume of the simulator into the volume mirror, as a sync would."""
    volumes = list(service_gateway().iter_volumes(all_projects=True))
    mirror.apply_volume_page(volumes, now=timezone.now())
    return len(volumes)


def cut_off(client: Client) -> None:
    """Point a signed-in client's session at a Cinder that refuses connections, so its
    requests provably never arrive."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = client.session
    session["cloud"] = {**session["cloud"], "endpoint": f"http://127.0.0.1:{port}/volume/v3/x"}
    session.save()


def fill_mirror() -> int:
    """Copy every volume and snapshot of the simulator into the mirror, as a sync would."""
    mirror_volumes()
    count = 0
    for page in snapshot_pages(service_gateway(), all_projects=True):
        for data in page.items:
            mirror.apply(data, source=ChangeSource.SYNC)
            count += 1
    return count


def picks(project_id: str, status: str, count: int) -> list[Snapshot]:
    """The first `count` live mirrored snapshots of `project_id` in `status`, by id."""
    rows = list(
        Snapshot.objects.live()
        .filter(project_id=project_id, status=status, group_snapshot_id="")
        .order_by("id")[:count]
    )
    assert len(rows) == count, f"fewer than {count} {status} snapshots in {project_id}"
    return rows


def pick(project_id: str, status: str) -> Snapshot:
    """A live mirrored snapshot of `project_id` in `status` (the demo cloud has every status)."""
    return picks(project_id, status, 1)[0]


def sim_snapshot(cloud, snapshot_id: str, project: str = "alpha") -> dict | None:
    """What the simulator holds for a snapshot, read with an admin token (None when gone)."""
    token = cloud.token("admin", project)
    resp = requests.get(
        f"{cloud.volume_endpoint(project)}/snapshots/{snapshot_id}",
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.65"},
        timeout=30,
    )
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.json()["snapshot"]


def volumes_of(cloud, project: str = "alpha") -> dict[str, dict]:
    """The project's volumes by name, read straight from the simulator's Cinder API."""
    token = cloud.token("admin", project)
    resp = requests.get(
        f"{cloud.volume_endpoint(project)}/volumes/detail",
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.65"},
        timeout=30,
    )
    resp.raise_for_status()
    return {v["name"]: v for v in resp.json()["volumes"]}


def create_volume_from(cloud, snapshot_id: str, project: str = "alpha", name: str = "") -> dict:
    """A volume made from a snapshot through Cinder's own API (the dashboard never does this)."""
    token = cloud.token("admin", project)
    resp = requests.post(
        f"{cloud.volume_endpoint(project)}/volumes",
        json={"volume": {"snapshot_id": snapshot_id, "name": name or "from-snapshot"}},
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.65"},
        timeout=30,
    )
    resp.raise_for_status()
    return resp.json()["volume"]


def cinder_calls(cloud) -> int:
    """Requests the simulator's Cinder answered since the last reset_stats()."""
    routes = cloud.stats()["by_route"]
    return sum(n for route, n in routes.items() if "/volume/" in route)


@pytest.fixture(name="mirrored")
def mirrored_fixture(cloud, db):
    """A fresh demo cloud, its snapshots in the mirror, and no fault or request count left over."""
    fill_mirror()
    cloud.clear_faults()
    cloud.reset_stats()
    yield cloud
    cloud.clear_faults()


@pytest.fixture(name="world")
def world_fixture(mirrored):
    """The demo cloud with its volumes mirrored too, and a fresh available volume + snapshot."""
    vol = mirrored.create_volume("alpha", size=4, name="wf-source")
    mirror.apply_volume_page(service_gateway().list_volumes(all_projects=True), now=timezone.now())
    snap = make_snapshot(mirrored, "alpha", "available", volume_id=vol["id"], size=4)
    mirrored.reset_stats()
    return mirrored, vol, snap


def signed_in(cloud, user: str = "demo", project: str | None = None) -> Client:
    """A fresh test client signed in through the real login form (one per person in a test)."""
    client = Client()
    response = client.post(
        "/auth/login/", {"username": user, "password": "secret", "domain": "Default"}
    )
    assert response.status_code == 302, response.content[:300]
    if project:
        response = client.post("/auth/project/", {"project_id": cloud.project_id(project)})
        assert response.status_code == 302
    return client


def form_key(response) -> str:
    """The idempotency key of the action form a page rendered."""
    found = re.search(rb'name="idempotency_key" value="([^"]+)"', response.content)
    assert found, response.content[:400]
    return found.group(1).decode()


def opened_form(cloud, url: str, user: str = "demo") -> tuple[Client, str]:
    """`user` signed in and opened the action form at `url`: their client and the form's key."""
    client = signed_in(cloud, user)
    return client, form_key(client.get(url))


def make_snapshot(cloud, project: str, status: str, **kw) -> Snapshot:
    """A snapshot made "outside the dashboard" in the simulator, then mirrored as a sync would."""
    made = cloud.create_snapshot(project, status=status, **kw)
    sid = made.get("id") or made["snapshot"]["id"]
    row, _ = mirror.apply(service_gateway().get_snapshot(sid), source=ChangeSource.SYNC)
    return row


def synced_snapshot(cloud, volume_name: str, name: str, **fields: Any) -> Snapshot:
    """An available snapshot named `name` on a new volume of alpha, made in the simulator, then
    the whole cloud synced into the mirror; returns its row."""
    volume = cloud.create_volume("alpha", name=volume_name, size=1)
    cloud.create_snapshot("alpha", volume_id=volume["id"], name=name, status="available", **fields)
    sync_snapshots()
    return Snapshot.objects.get(name=name)
