"""Per-project snapshot quota in the database, for the quota alert rule.

The gateway reads the absolute limits of the project its credential is scoped to, so the
periodic task keeps the service project's row; anything else that learns a project's quota
(a per-project quota mirror) writes the same table through `store()`.
"""

from __future__ import annotations

from django.utils import timezone

from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.models import ProjectQuota


def store(project_id: str, *, max_snapshots: int | None, used_snapshots: int | None) -> None:
    ProjectQuota.objects.update_or_create(
        project_id=project_id,
        defaults={
            "max_snapshots": -1 if max_snapshots is None else int(max_snapshots),
            "used_snapshots": int(used_snapshots or 0),
            "updated_at": timezone.now(),
        },
    )


def mirror_service_limits() -> str:
    try:
        gateway = service_gateway()
        project_id, _name = gateway.current_project()
        limits = gateway.get_limits()
    except errors.CloudError as exc:
        return f"limits not read: {exc.user_message()}"
    store(project_id, max_snapshots=limits.max_snapshots, used_snapshots=limits.used_snapshots)
    return f"project {project_id}: {limits.used_snapshots}/{limits.max_snapshots} snapshots"
