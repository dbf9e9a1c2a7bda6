"""Each project's block-storage quota and usage, mirrored by the workers for the create forms.

`refresh_quotas` reads Cinder's quota set with usage: after a create, of that project; on the
beat (every QUOTA_INTERVAL), of at most QUOTA_PROJECTS_PER_TICK known projects that are due:
never read; read before the mirror saw one of its snapshots change status, appear or go (its
usage moved); or read longer than QUOTA_MAX_AGE ago (limits an admin changed). Its calls a
minute follow change and stay bounded however many projects there are; at idle a project
costs one call per QUOTA_MAX_AGE. The forms read `quota_for` and refuse
locally what would exceed it (`quota_refusal`). Cinder stays the last word: its 413 is still
handled by the services, for when another user got there first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from snapshots.cloud import credentials, errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Project, ProjectQuota, Snapshot, StatusChange, Volume

log = logging.getLogger(__name__)

REFRESH_TASK = "snapshots.tasks.refresh_quotas"


@dataclass(frozen=True)
class QuotaRefresh:
    refreshed: int = 0
    failed: int = 0

    def summary(self) -> str:
        return f"quota of {self.refreshed} project(s) refreshed, {self.failed} failed"


def known_projects() -> set[str]:
    ids = set(Project.objects.values_list("id", flat=True))
    ids |= set(Snapshot.objects.live().values_list("project_id", flat=True).distinct())
    ids |= set(Volume.objects.filter(deleted_at__isnull=True).values_list("project_id", flat=True))
    return {i for i in ids if i}


def due_projects(limit: int | None = None) -> list[str]:
    """The known projects whose quota is due (see above), at most `limit` of them: never read
    first, then the longest unread."""
    limit = settings.QUOTA_PROJECTS_PER_TICK if limit is None else limit
    known = known_projects()
    read = {
        p: at
        for p, at in ProjectQuota.objects.values_list("project_id", "refreshed_at")
        if p in known
    }
    never = sorted(p for p in known if read.get(p) is None)
    aged_before = timezone.now() - timedelta(seconds=settings.QUOTA_MAX_AGE)
    fresh = {p: at for p, at in read.items() if at is not None and at > aged_before}
    moved = changed_since(min(fresh.values())) if fresh else {}
    due = sorted(
        (at, p)
        for p, at in read.items()
        if at is not None and (p not in fresh or moved.get(p, at) > at)
    )
    return (never + [p for _, p in due])[:limit]


def changed_since(since: datetime) -> dict[str, datetime]:
    """project -> when the mirror last saw one of its snapshots change status (made, gone or
    moved on) after `since`; only the changes of the last QUOTA_MAX_AGE are read."""
    rows = (
        StatusChange.objects.filter(observed_at__gt=since)
        .values("project_id")
        .annotate(last=Max("observed_at"))
        .values_list("project_id", "last")
    )
    return dict(rows)


def refresh_quotas(
    project_ids: Iterable[str] | None = None, *, gateway: Gateway | None = None
) -> QuotaRefresh:
    """Read the quota set with usage of each project (the service account may read any)."""
    ids = sorted(set(project_ids)) if project_ids is not None else due_projects()
    if not ids:
        return QuotaRefresh()
    gateway = gateway or credentials.service_gateway()
    refreshed = failed = 0
    for project_id in ids:
        try:
            usage = gateway.get_quota_usage(project_id)
        except errors.Unavailable:
            raise
        except errors.CloudError as exc:
            log.warning("quota of project %s not read: %s", project_id, exc.message)
            failed += 1
            continue
        ProjectQuota.objects.update_or_create(
            project_id=project_id,
            defaults={
                "snapshots_limit": usage.snapshots_limit,
                "snapshots_used": usage.snapshots_used,
                "gigabytes_limit": usage.gigabytes_limit,
                "gigabytes_used": usage.gigabytes_used,
                "volumes_limit": usage.volumes_limit,
                "volumes_used": usage.volumes_used,
                "refreshed_at": timezone.now(),
            },
        )
        refreshed += 1
    return QuotaRefresh(refreshed=refreshed, failed=failed)


def quota_for(project_id: str) -> ProjectQuota | None:
    """What the mirror knows of the project's quota (None: not read yet)."""
    return ProjectQuota.objects.filter(pk=project_id).first()


def quota_refusal(
    quota: ProjectQuota | None, *, snapshots: int = 0, volumes: int = 0, gigabytes: int = 0
) -> str:
    """Why the request would exceed the quota as last read, or "" when it fits (or is unknown)."""
    if quota is None:
        return ""
    checks = (
        ("snapshots", snapshots, quota.snapshots_limit, quota.snapshots_used, ""),
        ("volumes", volumes, quota.volumes_limit, quota.volumes_used, ""),
        ("gigabytes", gigabytes, quota.gigabytes_limit, quota.gigabytes_used, " GiB"),
    )
    for name, asked, limit, used, unit in checks:
        if asked and limit >= 0 and used + asked > limit:
            left = max(0, limit - used)
            return (
                f"The project's {name} quota would be exceeded: {asked}{unit} asked, "
                f"{left}{unit} left of {limit}{unit} ({used}{unit} used)."
            )
    return ""


def note_use(project_id: str, *, snapshots: int = 0, volumes: int = 0, gigabytes: int = 0) -> None:
    """Count a create in the mirror at once, until the next refresh reads Cinder's figures."""
    from django.db.models import F

    ProjectQuota.objects.filter(pk=project_id).update(
        snapshots_used=F("snapshots_used") + snapshots,
        volumes_used=F("volumes_used") + volumes,
        gigabytes_used=F("gigabytes_used") + gigabytes,
    )
