"""What the snapshot pages show of the workflows, from the mirror only: the volumes made from a
snapshot, why it failed, the quota of the create forms, and which workflow actions to offer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from snapshots.choices import FAILED
from snapshots.models import ProjectQuota, Snapshot, UserMessage, Volume
from snapshots.permissions import Action, Scope, can
from snapshots.selectors.volumes import visible_volumes
from snapshots.services.manage import unmanage_refusal
from snapshots.services.messages import VOLUME_ERRORS
from snapshots.services.revert import revert_refusal, source_volume
from snapshots.services.volume_create import may_create_from
from snapshots.services.volume_tracking import TRANSITIONAL_VOLUME


@dataclass(frozen=True)
class WorkflowActions:
    create_volume: bool = False
    revert: bool = False
    revert_reason: str = ""  # why not, when the role allows it but Cinder would refuse
    unmanage: bool = False
    unmanage_reason: str = ""

    @property
    def any(self) -> bool:
        return self.create_volume or self.revert or self.unmanage


def workflow_actions(scope: Scope | None, snapshot: Snapshot) -> WorkflowActions:
    live = snapshot.deleted_at is None
    if scope is None or not live:
        return WorkflowActions()
    may_revert = can(scope, Action.REVERT, snapshot.project_id)
    may_manage = can(scope, Action.MANAGE, snapshot.project_id)
    revert_reason = revert_refusal(source_volume(snapshot), snapshot) if may_revert else ""
    unmanage_reason = unmanage_refusal(snapshot) if may_manage else ""
    return WorkflowActions(
        create_volume=may_create_from(scope, snapshot) and snapshot.status == "available",
        revert=may_revert,
        revert_reason=revert_reason,
        unmanage=may_manage,
        unmanage_reason=unmanage_reason,
    )


def volumes_made_from(scope: Scope, snapshot_id: str) -> QuerySet[Volume]:
    return visible_volumes(scope).filter(snapshot_id=snapshot_id).order_by("-created_at", "id")


def failure_messages(snapshot: Snapshot) -> list[UserMessage]:
    """Cinder's user messages about this snapshot (the workers fetched them)."""
    return list(UserMessage.objects.filter(resource_uuid=snapshot.id))


def failure_hints(rows: list[Snapshot] | list[Volume]) -> dict[str, str]:
    """id -> the newest message's text, for the failed snapshots or volumes of one page."""
    failed = [r.id for r in rows if r.status in FAILED or r.status in VOLUME_ERRORS]
    if not failed:
        return {}
    hints: dict[str, str] = {}
    rows = UserMessage.objects.filter(resource_uuid__in=failed).values_list(
        "resource_uuid", "user_message"
    )
    for uuid, text in rows:  # newest first
        hints.setdefault(uuid, text)
    return hints


def snapshot_workflows(scope: Scope, snapshot: Snapshot) -> dict:
    """The detail page's workflow context."""
    return {
        "workflow_actions": workflow_actions(scope, snapshot),
        **made_volumes_context(scope, snapshot),
        "failure_messages": failure_messages(snapshot),
    }


def made_volumes_context(scope: Scope, snapshot: Snapshot) -> dict:
    """The volumes made from a snapshot, whether one is still moving, and why any failed."""
    made = list(volumes_made_from(scope, snapshot.id))
    hints = failure_hints(made)
    return {
        "made_volumes": [(v, hints.get(v.id, "")) for v in made],
        "made_volumes_moving": any(v.status in TRANSITIONAL_VOLUME for v in made),
    }


def quota_context(project_id: str) -> dict:
    """The create forms' quota panel: the project's quota as last read, and its rows."""
    quota = ProjectQuota.objects.filter(pk=project_id).first()
    rows = []
    if quota is not None:
        rows = [
            ("Snapshots", quota.snapshots_used, quota.snapshots_limit, quota.snapshots_left),
            ("Volumes", quota.volumes_used, quota.volumes_limit, quota.volumes_left),
            ("Gigabytes", quota.gigabytes_used, quota.gigabytes_limit, quota.gigabytes_left),
        ]
    return {"quota": quota, "quota_rows": rows}
