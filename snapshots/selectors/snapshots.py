"""Reads behind the snapshot list, its filters, the live rows and the detail page.

Everything starts from `visible_snapshots(scope)`, so a member never reads another project's
rows, whatever the filter, sort, export or poll asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from snapshots.models import CloudState, Project, Snapshot, TablePreference, Volume
from snapshots.permissions import Scope
from snapshots.selectors import restrict, visible_snapshots

VOLUME_SUGGESTIONS = 200  # names offered in the volume filter's autocomplete list


def snapshot_list(scope: Scope) -> QuerySet[Snapshot]:
    """The rows the list page starts from, before filters and sorting."""
    return visible_snapshots(scope)


def page_of(queryset: QuerySet[Snapshot], *, offset: int, limit: int) -> list[Snapshot]:
    """One page of an ordered queryset in two steps: the ids first, then their rows.

    Sorting or skipping (OFFSET) over narrow (key, id) pairs is cheaper than over whole rows
    with their metadata and descriptions; only the page's rows are then read in full.
    """
    ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
    rows = Snapshot.objects.in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def sees_several_projects(scope: Scope) -> bool:
    """Admins and auditors see more than one project: the project column and filter are theirs."""
    return scope.readable_projects is None or len(scope.readable_projects) > 1


def project_names(scope: Scope) -> dict[str, str]:
    """Project id -> name for the projects `scope` may read, for labels and filters (one
    query): the mirror's name, else the token's; projects with no known name are left out."""
    names = {p.id: p.name for p in scope.projects if p.name and scope.can_read_project(p.id)}
    if scope.project_name and scope.can_read_project(scope.project_id):
        names.setdefault(scope.project_id, scope.project_name)
    rows = restrict(Project.objects.all(), scope, field="id")
    for project_id, name in rows.values_list("id", "name"):
        if name:
            names[project_id] = name
    return names


def project_choices(scope: Scope, *, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    names = dict(project_names(scope) if names is None else names)
    if scope.readable_projects is not None:
        for project_id in scope.readable_projects:
            names.setdefault(project_id, project_id)
    return sorted(names.items(), key=lambda item: (item[1].lower(), item[0]))


def volume_suggestions(scope: Scope) -> list[str]:
    """A bounded list of volume names for the filter's autocomplete."""
    rows = restrict(Volume.objects.filter(deleted_at__isnull=True).exclude(name=""), scope)
    names = rows.order_by("name").values_list("name", flat=True).distinct()
    return list(names[:VOLUME_SUGGESTIONS])


def source_volume(scope: Scope, snapshot: Snapshot) -> Volume | None:
    """The mirror of the snapshot's volume, when the user may read its project."""
    volume = Volume.objects.filter(pk=snapshot.volume_id).first()
    if volume is None or not scope.can_read_project(volume.project_id):
        return None
    return volume


def last_synced_at() -> datetime | None:
    return CloudState.objects.filter(id=1).values_list("last_sync_ok_at", flat=True).first()


@dataclass(frozen=True)
class LiveAnswer:
    """What changed among the rows a page is watching."""

    changed: list[Snapshot]  # still visible, version grew: re-render these rows
    gone: list[str]  # deleted in Cinder or no longer visible: remove these rows
    watching: int  # rows still transitional after this answer (0: the page may stop asking)


def parse_watched(values: list[str], *, limit: int = 500) -> dict[str, int]:
    """`["<id>:<version>", ...]` from the page -> {id: version}; malformed items are ignored."""
    watched: dict[str, int] = {}
    for value in values[:limit]:
        snapshot_id, _, version = value.rpartition(":")
        if snapshot_id and version.isdecimal() and len(version) < 19 and len(snapshot_id) <= 64:
            watched[snapshot_id] = int(version)
    return watched


def live_changes(scope: Scope, watched: dict[str, int]) -> LiveAnswer:
    """One query for any number of rows: which of the watched snapshots changed or went."""
    if not watched:
        return LiveAnswer(changed=[], gone=[], watching=0)
    rows = {
        row.pk: row
        for row in visible_snapshots(scope, include_deleted=True).filter(pk__in=list(watched))
    }
    changed: list[Snapshot] = []
    gone: list[str] = []
    watching = 0
    for snapshot_id, version in watched.items():
        row = rows.get(snapshot_id)
        if row is None or row.deleted_at is not None:
            gone.append(snapshot_id)
            continue
        if row.version != version:
            changed.append(row)
        if row.is_transitional:
            watching += 1
    position = {snapshot_id: index for index, snapshot_id in enumerate(watched)}
    changed.sort(key=lambda row: position[row.pk])
    return LiveAnswer(changed=changed, gone=gone, watching=watching)


def table_preference(user, table: str) -> TablePreference | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return TablePreference.objects.filter(user=user, table=table).first()
