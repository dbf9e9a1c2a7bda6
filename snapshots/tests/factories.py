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
