"""Rows for the audit, history and chart tests, written the way the workers and actions write
them: snapshots through mirror.apply()/mark_gone() (which also write the StatusChange rows) and
audit events through audit.record()."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud.dto import SnapshotData
from snapshots.models import AuditEvent, Project, Snapshot, Volume
from snapshots.permissions import ProjectRef, Scope
from snapshots.services import audit, mirror

_ids = itertools.count(1)

ALPHA = "p-alpha"
BETA = "p-beta"
GAMMA = "p-gamma"


def make_scope(
    role: str,
    project_id: str = ALPHA,
    *,
    readable: frozenset[str] | None = None,
    username: str = "",
) -> Scope:
    """A Scope as the middleware builds it for a "member", "reader" (auditor) or "admin"."""
    roles = {"admin": {"admin", "member", "reader"}, "member": {"member", "reader"}}.get(
        role, {"reader"}
    )
    if role == "admin":
        readable = None
    elif role == "member":
        readable = frozenset({project_id})
    # a reader reads `readable` (None, the default: the whole cloud)
    return Scope(
        user_id=f"u-{username or role}",
        username=username or role,
        project_id=project_id,
        project_name=project_id.removeprefix("p-"),
        roles=frozenset(roles),
        projects=(ProjectRef(project_id, project_id.removeprefix("p-")),),
        readable_projects=readable,
    )


def make_project(project_id: str, name: str = "") -> Project:
    return Project.objects.create(id=project_id, name=name or project_id.removeprefix("p-"))


def make_volume(
    project_id: str = ALPHA, *, volume_id: str = "", deleted_at: datetime | None = None
) -> Volume:
    n = next(_ids)
    return Volume.objects.create(
        id=volume_id or f"vol-{n}",
        project_id=project_id,
        name=f"volume {n}",
        size=10,
        status="available",
        deleted_at=deleted_at,
    )


def make_snapshot(
    project_id: str = ALPHA,
    *,
    status: str = "available",
    at: datetime | None = None,
    created_at: datetime | None = None,
    size: int = 1,
    name: str = "",
    volume_id: str = "",
    snapshot_id: str = "",
    source: str = ChangeSource.SYNC,
) -> Snapshot:
    """A snapshot first seen at `at` (default now) in `status`, with its first StatusChange."""
    at = at or timezone.now()
    n = next(_ids)
    data = SnapshotData(
        id=snapshot_id or f"snap-{n:04d}",
        name=name or f"snapshot {n}",
        description="",
        status=status,
        size=size,
        volume_id=volume_id or f"vol-of-{n}",
        project_id=project_id,
        created_at=created_at or at,
    )
    row, _ = mirror.apply(data, source=source, now=at, volume_name=f"volume of {n}")
    return row


def move(snapshot: Snapshot, status: str, at: datetime, *, source: str = ChangeSource.TRACK):
    """The snapshot is seen in `status` at `at` (writes a StatusChange when it differs)."""
    data = SnapshotData(
        id=snapshot.id,
        name=snapshot.name,
        description=snapshot.description,
        status=status,
        size=snapshot.size,
        volume_id=snapshot.volume_id,
        project_id=snapshot.project_id,
        created_at=snapshot.created_at,
    )
    row, _ = mirror.apply(data, source=source, now=at)
    return row


def gone(snapshot: Snapshot, at: datetime) -> None:
    mirror.mark_gone(snapshot.id, source=ChangeSource.SYNC, now=at)


def mark_stuck(snapshot: Snapshot, since: datetime) -> None:
    Snapshot.objects.filter(pk=snapshot.pk).update(stuck_since=since)


def event(
    scope: Scope | None = None,
    *,
    action: str = "snapshot_create",
    outcome: str = Outcome.SUCCESS,
    target: Snapshot | None = None,
    project_id: str = "",
    message: str = "",
    actor_name: str = "",
    created_at: datetime | None = None,
) -> AuditEvent:
    """One audit event through the real writer; `created_at` writes it as if at that time."""
    clock = mock.patch("django.utils.timezone.now", return_value=created_at or timezone.now())
    with clock:
        return audit.record(
            scope=scope,
            action=action,
            outcome=outcome,
            target_id=target.id if target else "",
            target_name=target.name if target else "",
            project_id=project_id or (target.project_id if target else ""),
            message=message,
            actor_name=actor_name,
        )


def days_ago(days: float, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)
