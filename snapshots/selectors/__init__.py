"""What a user may see. Every queryset a view shows starts here.

`restrict()` is the one visibility rule for querysets (snapshots, volumes, projects, audit
events, status changes): the rows of the projects `Scope.readable_projects` names, every row
when it is None (admins), none for someone who is not even a reader. The same rule for one
object is `Scope.can_read_project()` (permissions.py), which `can()` and `require()` use.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Q, QuerySet
from django.http import Http404

from snapshots.models import Snapshot
from snapshots.permissions import Scope

QS = TypeVar("QS", bound=QuerySet)
# The one definition of "stuck": the workers' flag (services/mirror.flag_stuck sets it when a
# snapshot has sat in creating/deleting/error_deleting for STUCK_AFTER, and clears it when it
# moves on). The Stuck page, the overview, the list's filter and its badge all read it.
STUCK = Q(stuck_since__isnull=False)


def restrict(qs: QS, scope: Scope | None, *, field: str = "project_id") -> QS:
    """The rows of `qs` whose `field` (a project id) `scope` may read."""
    if scope is None or not scope.is_reader:
        return qs.none()
    if scope.readable_projects is None:
        return qs
    return qs.filter(**{f"{field}__in": scope.readable_projects})


def visible_snapshots(scope: Scope, *, include_deleted: bool = False) -> QuerySet[Snapshot]:
    """The snapshots `scope` may read: their project's, or every project's for admins/auditors."""
    qs = Snapshot.objects.all()
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return restrict(qs, scope)


def stuck_snapshots(scope: Scope) -> QuerySet[Snapshot]:
    """The live snapshots `scope` may read that are stuck, longest stuck first."""
    return visible_snapshots(scope).filter(STUCK).order_by("stuck_since", "id")


def get_snapshot(scope: Scope, snapshot_id: str) -> Snapshot:
    """One snapshot `scope` may read, deleted ones included; 404 for anything else."""
    snapshot = visible_snapshots(scope, include_deleted=True).filter(pk=snapshot_id).first()
    if snapshot is None:
        raise Http404("No such snapshot")
    return snapshot
