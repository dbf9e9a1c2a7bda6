"""What the behavioural tests share: signing in through the login form, posting the action forms
the way a browser does, changes outside the dashboard, and reading the list back."""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client

from snapshots.cloud.dto import SnapshotData
from snapshots.models import Snapshot
from snapshots.services import sync
from snapshots.services.snapshots import TRACK_TASK
from tests.behaviour.conftest import PASSWORD, Backend

LOCAL_PASSWORD = "a-long-local-password-1"
GROUPS = {"reader": "snapshot-readers", "member": "snapshot-members", "admin": "snapshot-admins"}


# --- signing in -------------------------------------------------------------------------------
def sign_in(backend: Backend, user: str, project: str | None = None) -> Client:
    """A fresh client signed in through the real login form (Keystone mode)."""
    client = Client()
    response = client.post(
        "/auth/login/", {"username": user, "password": PASSWORD, "domain": "Default"}
    )
    assert response.status_code == 302, response.content[:500]
    if project and client.session["cloud"]["project_id"] != backend.project_id(project):
        response = client.post("/auth/project/", {"project_id": backend.project_id(project)})
        assert response.status_code == 302
        assert client.session["cloud"]["project_id"] == backend.project_id(project)
    return client


def local_user(username: str, role: str) -> User:
    user = User.objects.create_user(username, password=LOCAL_PASSWORD)
    user.groups.add(Group.objects.get(name=GROUPS[role]))
    return user


def local_sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/auth/login/", {"username": username, "password": LOCAL_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


# --- forms ------------------------------------------------------------------------------------
def form_key(response) -> str:
    """The idempotency key of the form a page rendered."""
    assert response.status_code == 200, response.content[:500]
    found = re.search(rb'name="idempotency_key" value="([^"]+)"', response.content)
    assert found, "the page has no action form"
    return found.group(1).decode()


def metadata_rows(rows: dict[str, str], *, extra: int = 1) -> dict[str, str]:
    """The metadata formset's fields for new rows (management form included)."""
    data = {
        "meta-TOTAL_FORMS": str(len(rows) + extra),
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "1000",
    }
    for i, (key, value) in enumerate([*rows.items(), *[("", "")] * extra]):
        data[f"meta-{i}-key"] = key
        data[f"meta-{i}-value"] = value
    return data


def create_through_form(
    client: Client,
    volume_id: str,
    name: str,
    *,
    description: str = "",
    metadata: dict[str, str] | None = None,
):
    page = client.get("/snapshots/create/")
    data = {
        "idempotency_key": form_key(page),
        "volume": volume_id,
        "name": name,
        "description": description,
        **metadata_rows(metadata or {}),
    }
    return client.post("/snapshots/create/", data)


def post_form(client: Client, url: str, fields: dict[str, Any] | None = None, **query):
    """GET the page (for its key), then POST it with `fields`."""
    page = client.get(url, query or None)
    data = {"idempotency_key": form_key(page), **(fields or {})}
    return client.post(url, data)


def flash(response) -> str:
    """The messages a (followed or re-rendered) page shows, as one text."""
    return " | ".join(str(m) for m in response.context["messages"]) if response.context else ""


# --- outside the dashboard ----------------------------------------------------------------------
def create_outside(
    backend: Backend,
    made,
    project: str,
    name: str,
    *,
    volume: int = 0,
    description: str = "",
    metadata: dict[str, str] | None = None,
    wait: bool = True,
) -> SnapshotData:
    """A snapshot made with an admin's token (openstacksdk through the gateway), available."""
    gateway = backend.outside(project)
    data = gateway.create_snapshot(
        volume_id=backend.volume_ids(project)[volume],
        name=name,
        description=description,
        metadata=metadata,
    )
    made(project, data.id)
    if wait:
        return backend.wait_status(project, data.id, "available")
    return data


def older_and_latest(
    backend: Backend, made, project: str, volume_id: str, tag: str
) -> tuple[SnapshotData, SnapshotData]:
    """Two snapshots of one volume made outside, the first available before the second is asked
    for: the older one and the latest (the only one Cinder reverts to)."""
    outside = backend.outside(project)
    snaps = []
    for which in ("older", "latest"):
        snap = outside.create_snapshot(volume_id=volume_id, name=f"{tag}-{which}")
        made(project, snap.id)
        backend.wait_status(project, snap.id, "available")
        snaps.append(snap)
    return snaps[0], snaps[1]


# --- the worker -------------------------------------------------------------------------------
def run_tracks(enqueued) -> None:
    """What the worker does with the tasks the actions asked for (repeats are harmless)."""
    for task, kwargs in list(enqueued):
        assert task == TRACK_TASK
        sync.track_snapshots(**kwargs)


# --- the mirror and the list --------------------------------------------------------------------
def sync_all(**kwargs) -> sync.SyncResult:
    return sync.sync_snapshots(**kwargs)


def row(snapshot_id: str) -> Snapshot:
    return Snapshot.objects.get(pk=snapshot_id)


def listing(client: Client, **params) -> list[dict]:
    """The list page's rows as its JSON export gives them (same filters, same sort)."""
    response = client.get("/snapshots/", {**params, "export": "json"})
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(body)


def mirror_matches(data: SnapshotData) -> None:
    """The mirror row holds what Cinder says about the snapshot."""
    got = row(data.id)
    assert got.deleted_at is None
    for field in (
        "name",
        "description",
        "status",
        "size",
        "volume_id",
        "project_id",
        "user_id",
        "metadata",
        "created_at",
        "progress",
        "consumes_quota",
        "group_snapshot_id",
    ):
        assert getattr(got, field) == getattr(data, field), (field, getattr(got, field), data)
