"""The volumes a user may see, from the volume mirror (never from Cinder)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from snapshots.models import Volume
from snapshots.permissions import Scope


def visible_volumes(scope: Scope) -> QuerySet[Volume]:
    qs = Volume.objects.filter(deleted_at__isnull=True)
    if not scope.is_reader:
        return qs.none()
    if scope.readable_projects is not None:
        qs = qs.filter(project_id__in=scope.readable_projects)
    return qs


def get_volume(scope: Scope, volume_id: str) -> Volume:
    volume = visible_volumes(scope).filter(pk=volume_id).first()
    if volume is None:
        raise Http404("No such volume")
    return volume
