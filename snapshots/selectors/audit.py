"""What a user may read of the two histories: audit events and status changes.

The same rule as for snapshots (`restrict()`): members read their current project's rows;
auditors (readers) every project they may read; admins everything, including events with no
project (sign-in failures, prunes). Every audit and history page starts here.
"""

from __future__ import annotations

from dataclasses import dataclass

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

from snapshots.models import AuditEvent, Snapshot, StatusChange
from snapshots.permissions import Action, Scope, can
from snapshots.selectors import restrict

SNAPSHOT_EVENTS_SHOWN = 50


def visible_events(scope: Scope | None) -> QuerySet[AuditEvent]:
    """Audit events `scope` may read, newest first, each knowing whether its target is a
    snapshot the mirror holds (deleted ones included), so the page can link to it."""
    is_snapshot = Exists(Snapshot.objects.filter(pk=OuterRef("target_id")))
    return (
        restrict(AuditEvent.objects.all(), scope)
        .annotate(target_is_snapshot=is_snapshot)
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class SnapshotAudit:
    """The audit events a snapshot's detail page shows, and whether the user may see any."""

    allowed: bool
    events: list[AuditEvent]


def snapshot_audit(scope: Scope | None, snapshot: Snapshot) -> SnapshotAudit:
    """The newest audit events naming `snapshot` (one query; none when `scope` may not read
    its project's history)."""
    if not can(scope, Action.VIEW, snapshot.project_id):
        return SnapshotAudit(allowed=False, events=[])
    qs = AuditEvent.objects.filter(target_id=snapshot.pk).order_by("-created_at", "-id")
    return SnapshotAudit(allowed=True, events=list(qs[:SNAPSHOT_EVENTS_SHOWN]))


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
        restrict(StatusChange.objects.all(), scope)
        .select_related("snapshot")
        .annotate(next_observed_at=next_at)
        .annotate(
            duration=ExpressionWrapper(
                F("next_observed_at") - F("observed_at"), output_field=DurationOutput()
            )
        )
        .order_by("-observed_at", "-id")
    )
