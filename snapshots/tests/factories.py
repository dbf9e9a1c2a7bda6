"""Mirror rows for tests, written straight to the database (no cloud needed for reading pages)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.models import Project, Snapshot, StatusChange, Volume

_counter = itertools.count(1)


def make_project(project_id: str, name: str) -> Project:
    return Project.objects.update_or_create(id=project_id, defaults={"name": name})[0]


def make_volume(project_id: str, **fields) -> Volume:
    n = next(_counter)
    values = {
        "id": str(uuid.uuid4()),
        "project_id": project_id,
        "name": f"volume-{n}",
        "size": 10,
        "status": "available",
        "created_at": timezone.now() - timedelta(days=30),
    }
    values.update(fields)
    return Volume.objects.create(**values)


def make_snapshot(project_id: str, *, history: bool = True, **fields) -> Snapshot:
    """A mirror row; with `history`, the first-sighting StatusChange that mirror.apply writes."""
    n = next(_counter)
    now = timezone.now()
    values = {
        "id": str(uuid.uuid4()),
        "project_id": project_id,
        "name": f"snap-{n:04d}",
        "description": f"description {n}",
        "status": "available",
        "size": 1 + n % 20,
        "volume_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"vol-{n % 3}")),
        "volume_name": f"vol-{n % 3}",
        "user_id": "u" * 32,
        "created_at": now - timedelta(hours=n),
        "updated_at": now - timedelta(minutes=n),
        "metadata": {},
        "consumes_quota": True,
        "progress": 100,
    }
    values.update(fields)
    snapshot = Snapshot.objects.create(**values)
    if history:
        StatusChange.objects.create(
            snapshot=snapshot,
            project_id=project_id,
            from_status="",
            to_status=snapshot.status,
            progress=snapshot.progress,
            observed_at=snapshot.first_seen,
            source=ChangeSource.SYNC,
        )
    return snapshot


STATUS_CYCLE = (
    "available",
    "creating",
    "error",
    "available",
    "deleting",
    "error_deleting",
    "available",
    "backing-up",
)


def seed_projects(cloud) -> dict[str, str]:
    """Mirror rows for the demo cloud's projects; returns name -> id."""
    ids = {name: cloud.project_id(name) for name in ("alpha", "beta", "gamma")}
    for name, project_id in ids.items():
        make_project(project_id, name)
    return ids


def seed_snapshots(ids: dict[str, str], *, alpha: int = 30, beta: int = 4, gamma: int = 3):
    """A spread of statuses, sizes, volumes and metadata in each project."""
    rows: dict[str, list[Snapshot]] = {}
    for project, count in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        rows[project] = [
            make_snapshot(
                ids[project],
                project_name=project,
                name=f"{project}-{i:02d}",
                status=STATUS_CYCLE[i % len(STATUS_CYCLE)],
                progress=None if i % 5 == 0 else (i * 7) % 101,
                metadata={"team": "db"} if i % 3 == 0 else ({"team": "web"} if i % 3 == 1 else {}),
                consumes_quota=None if i % 4 == 0 else bool(i % 2),
                user_id="" if i % 6 == 0 else f"user{i % 4}",
            )
            for i in range(count)
        ]
    return rows
