"""What a user may see. Every queryset a view shows starts here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from snapshots.models import Snapshot
from snapshots.permissions import Scope


def visible_snapshots(scope: Scope, *, include_deleted: bool = False) -> QuerySet[Snapshot]:
    """The snapshots `scope` may read: their project's, or every project's for admins/auditors."""
    qs = Snapshot.objects.all()
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    if not scope.is_reader:
        return qs.none()
    if scope.readable_projects is not None:
        qs = qs.filter(project_id__in=scope.readable_projects)
    return qs


def get_snapshot(scope: Scope, snapshot_id: str) -> Snapshot:
    """One snapshot `scope` may read, deleted ones included; 404 for anything else."""
    snapshot = visible_snapshots(scope, include_deleted=True).filter(pk=snapshot_id).first()
    if snapshot is None:
        raise Http404("No such snapshot")
    return snapshot
