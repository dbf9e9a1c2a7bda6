"""What a user may read of the two histories: audit events and status changes.

Members read their current project's rows; auditors (readers) every project they may read
(`Scope.readable_projects`, None meaning the whole cloud); admins everything, including events
with no project (sign-in failures, prunes). Every audit and history page starts here.
"""

from __future__ import annotations

from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models import DurationField as DurationOutput

from snapshots.models import AuditEvent, Project, Snapshot, StatusChange
from snapshots.permissions import Action, Scope, can

SNAPSHOT_EVENTS_SHOWN = 50


def readable_project_ids(scope: Scope | None) -> frozenset[str] | None:
    """The projects whose history `scope` may read: None means every project (and none)."""
    if scope is None or not scope.is_reader:
        return frozenset()
    if scope.is_admin:
        return None
    if scope.is_member:
        return frozenset({scope.project_id})
    if not can(scope, Action.AUDIT):
        return frozenset()
    return scope.readable_projects


def may_see_history(scope: Scope | None, project_id: str) -> bool:
    """May `scope` read the audit events and status changes of `project_id`?"""
    projects = readable_project_ids(scope)
    return projects is None or project_id in projects


def scope_history(qs: QuerySet, scope: Scope | None) -> QuerySet:
    """Restrict a queryset of rows with a `project_id` to what `scope` may read."""
    projects = readable_project_ids(scope)
    if projects is None:
        return qs
    return qs.filter(project_id__in=projects) if projects else qs.none()


def visible_events(scope: Scope | None) -> QuerySet[AuditEvent]:
    """Audit events `scope` may read, newest first, each knowing whether its target is a
    snapshot the mirror holds (deleted ones included), so the page can link to it."""
    is_snapshot = Exists(Snapshot.objects.filter(pk=OuterRef("target_id")))
    return (
        scope_history(AuditEvent.objects.all(), scope)
        .annotate(target_is_snapshot=is_snapshot)
        .order_by("-created_at", "-id")
    )


def snapshot_events(scope: Scope | None, snapshot: Snapshot) -> list[AuditEvent]:
    """The newest audit events naming `snapshot`, or [] when `scope` may not see them."""
    if not may_see_history(scope, snapshot.project_id):
        return []
    qs = AuditEvent.objects.filter(target_id=snapshot.pk).order_by("-created_at", "-id")
    return list(qs[:SNAPSHOT_EVENTS_SHOWN])


def visible_changes(scope: Scope | None) -> QuerySet[StatusChange]:
    """Status changes `scope` may read, newest first, with `next_observed_at` (when the same
    snapshot changed next; NULL while it still holds that status) and `duration` between them.

    The next change is a correlated subquery rather than a window function so that filtering
    the list (by status, say) does not change what "the next change" is.
    """
    following = StatusChange.objects.filter(snapshot_id=OuterRef("snapshot_id")).filter(
        Q(observed_at__gt=OuterRef("observed_at"))
        | Q(observed_at=OuterRef("observed_at"), id__gt=OuterRef("id"))
    )
    next_at = Subquery(
        following.order_by("observed_at", "id").values("observed_at")[:1],
        output_field=DateTimeField(),
    )
    return (
        scope_history(StatusChange.objects.all(), scope)
        .select_related("snapshot")
        .annotate(next_observed_at=next_at)
        .annotate(
            duration=ExpressionWrapper(
                F("next_observed_at") - F("observed_at"), output_field=DurationOutput()
            )
        )
        .order_by("-observed_at", "-id")
    )


def project_names(scope: Scope | None) -> dict[str, str]:
    """Project id -> name for the projects `scope` may read (one query), for labels and filters."""
    qs = Project.objects.all()
    projects = readable_project_ids(scope)
    if projects is not None:
        qs = qs.filter(id__in=projects)
    names = {pk: name or pk for pk, name in qs.values_list("id", "name")}
    if scope is not None and scope.project_id and may_see_history(scope, scope.project_id):
        names.setdefault(scope.project_id, scope.project_name or scope.project_id)
    for ref in getattr(scope, "projects", ()):
        if may_see_history(scope, ref.id):
            names.setdefault(ref.id, ref.name or ref.id)
    return names
