"""Keeping the mirror true: the full sync, the tracker of transitional snapshots, stuck flags.

Both run in the Celery worker (snapshots/tasks.py is a thin wrapper) with the service credential;
`manage.py sync_snapshots` / `track_snapshots` run them by hand. Pages never call Cinder: they
read what these two functions write.

sync (every SYNC_INTERVAL)
    Projects (names), then every volume, then every snapshot, page by page with markers, each
    page upserted in a few bulk statements in its own transaction. Each row seen is stamped with
    the time its page was requested; afterwards the live rows stamped before the sync started
    are the snapshots that left Cinder. Memory holds one page, whatever the size of the cloud,
    and a sync killed half way leaves only true rows behind: the next one finishes the job.

track (every TRACK_INTERVAL)
    Only snapshots in a transitional status whose `next_check_at` is due. For each project with
    due snapshots, one list call: one page of the project's newest snapshots (Cinder's default
    order), just deep enough to reach the due ones. Its answer says where every tracked snapshot
    of the project in that range is, due or not, and proves the absence of those newer than its
    last item: they are gone. Transitional snapshots older than the project's newest page (an
    old snapshot being deleted) are looked up with one status-filtered listing per status
    instead (paged to its end), and only the ones missing from that (they changed status or
    left) cost a GET each, once.
    So a tick costs one call per project that has due snapshots, not one per snapshot, and
    nothing at all when nothing is due. Each due snapshot that did not change waits twice as
    long before its next check (2 s ... 5 min); a status change starts again at 2 s.

Both take a lease (services/locks.py): two syncs never run at once, nor two tracks.
A Cinder outage raises errors.Unavailable (the tasks retry it) after marking CloudState
unreachable; the mirror keeps what it had.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries
from django.db.models import Q
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.cloud.dto import SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import CloudState, Project, Snapshot, Volume
from snapshots.services import locks, mirror

log = logging.getLogger(__name__)

SYNC_LOCK = "sync"
TRACK_LOCK = "track"
SYNC_LEASE = 120.0  # seconds; renewed after every page
TRACK_LEASE = 30.0  # seconds; renewed after every project
FREE_DEPTH = 200  # rows a track listing may add to see a project's other transitional ones
MARKER_RETRIES = 3  # earlier items of a page tried when its last one vanished mid-listing
JUST_SEEN = 1.0  # seconds: an explicit check of a snapshot seen this recently waits its turn
# SQLite's page cache for the syncing connection (KiB). The default 2 MB makes every insert into
# the mirror's dozen indexes read pages back; 32 MB halves a 100k first sync (RSS +~40 MB).
SQLITE_SYNC_CACHE_KIB = 32768


# --- cloud state (the outage banner) -------------------------------------------------------
def _cloud_failed(exc: errors.CloudError) -> None:
    CloudState.get()
    CloudState.objects.filter(id=1).update(
        reachable=False, last_error=exc.user_message()[:2000], last_error_at=timezone.now()
    )


def _cloud_answered() -> None:
    CloudState.get()
    CloudState.objects.filter(id=1, reachable=False).update(reachable=True)


# --- paging ----------------------------------------------------------------------------------
def _pages(
    fetch: Callable[[str | None, int], list], page_size: int
) -> Iterator[tuple[datetime, list]]:
    """(when requested, items) for every page of a marker-paged listing.

    If the marker (last item of the previous page) leaves the cloud between two requests, Cinder
    answers 404; the listing then goes on after an earlier item of that page, which skips
    nothing and repeats nothing, since the vanished one is no longer in the order."""
    marker: str | None = None
    previous: list = []
    while True:
        observed_at = timezone.now()
        try:
            items = fetch(marker, page_size)
        except errors.NotFound:
            if marker is None:
                raise
            items = None
            for earlier in reversed(previous[-(MARKER_RETRIES + 1) : -1]):
                observed_at = timezone.now()
                try:
                    items = fetch(earlier.id, page_size)
                    break
                except errors.NotFound:
                    continue
            if items is None:
                raise errors.Unavailable(
                    "The listing changed too much while it was read; it will be read again"
                ) from None
        yield observed_at, items
        if len(items) < page_size:
            return
        previous = items
        marker = items[-1].id


# --- sync ------------------------------------------------------------------------------------
@dataclass
class SyncResult:
    seen: int = 0
    new: int = 0
    changed: int = 0
    gone: int = 0
    pages: int = 0
    volumes: int = 0
    volumes_gone: int = 0
    stuck: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"synced {self.seen} snapshots ({self.new} new, {self.changed} changed, "
            f"{self.gone} gone) in {self.seconds:.1f} s"
        )


class _Projects:
    """Project id -> the name to show. Keystone's names when the credential may list projects,
    else the names the mirror already has, else the id. Project rows exist for every id seen."""

    def __init__(self, gateway: Gateway, now: datetime) -> None:
        try:
            listed = gateway.list_projects()
        except errors.CloudError as exc:  # names are a nicety: never fail a sync for them
            log.warning("could not list projects (%s); showing ids for unknown ones", exc)
            listed = []
        if listed:
            Project.objects.bulk_create(
                [
                    Project(id=p.id, name=p.name, domain_id=p.domain_id, last_seen=now)
                    for p in listed
                ],
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=["name", "domain_id", "last_seen"],
            )
        self.known = set(Project.objects.values_list("id", flat=True))
        self.names = {pid: name for pid, name in Project.objects.values_list("id", "name") if name}

    def add(self, project_ids: set[str], now: datetime) -> None:
        missing = project_ids - self.known
        if missing:
            Project.objects.bulk_create(
                [Project(id=pid, last_seen=now) for pid in missing], ignore_conflicts=True
            )
            self.known |= missing


def sync_snapshots(
    *,
    gateway: Gateway | None = None,
    page_size: int | None = None,
    on_page: Callable[[int, int], Any] | None = None,
) -> SyncResult:
    """Bring the whole mirror up to date. Raises locks.LockHeld when another sync runs, and
    errors.CloudError (after marking the cloud unreachable) when Cinder fails.

    `on_page(pages, snapshots)` is called after each snapshot page is stored."""
    with locks.held(SYNC_LOCK, ttl=SYNC_LEASE) as lease:
        started = timezone.now()
        CloudState.get()
        CloudState.objects.filter(id=1).update(last_sync_started_at=started)
        try:
            result = _sync(
                gateway or service_gateway(),
                lease,
                started,
                page_size or settings.SYNC_PAGE_SIZE,
                on_page,
            )
        except errors.CloudError as exc:
            _cloud_failed(exc)
            raise
        CloudState.objects.filter(id=1).update(
            reachable=True, last_sync_ok_at=timezone.now(), last_sync_summary=result.summary()
        )
    log.info(result.summary())
    return result


def _sync(
    gateway: Gateway,
    lease: locks.Lease,
    started: datetime,
    page_size: int,
    on_page: Callable[[int, int], Any] | None,
) -> SyncResult:
    clock = time.monotonic()
    result = SyncResult()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_SYNC_CACHE_KIB}")
    projects = _Projects(gateway, started)

    # Volumes first, so that snapshot rows get their volume's current name from the mirror.
    def fetch_volumes(marker: str | None, limit: int) -> list:
        return gateway.list_volumes(all_projects=True, limit=limit, marker=marker)

    for observed_at, volumes in _pages(fetch_volumes, page_size):
        mirror.apply_volume_page(volumes, now=observed_at)
        projects.add({v.project_id for v in volumes}, observed_at)
        result.volumes += len(volumes)
        lease.renew()
        reset_queries()  # DEBUG keeps every query in memory otherwise

    def fetch_snapshots(marker: str | None, limit: int) -> list[SnapshotData]:
        return gateway.list_snapshots(all_projects=True, limit=limit, marker=marker).items

    for observed_at, snapshots in _pages(fetch_snapshots, page_size):
        volume_ids = {s.volume_id for s in snapshots}
        volume_names = {
            vid: name
            for ids in mirror.chunks(volume_ids)
            for vid, name in Volume.objects.filter(pk__in=ids).values_list("id", "name")
        }
        projects.add({s.project_id for s in snapshots}, observed_at)
        page = mirror.apply_page(
            snapshots,
            source=ChangeSource.SYNC,
            now=observed_at,
            volume_names=volume_names,
            project_names=projects.names,
        )
        result.pages += 1
        result.seen += len(snapshots)
        result.new += page.new
        result.changed += page.changed
        lease.renew()
        reset_queries()
        if on_page is not None:
            on_page(result.pages, result.seen)

    # Every page was read: what was not seen since the start has left the cloud.
    now = timezone.now()
    result.volumes_gone = mirror.mark_vanished_volumes(seen_since=started, now=now)
    result.gone = mirror.mark_vanished(seen_since=started, source=ChangeSource.SYNC, now=now)
    result.stuck = mirror.flag_stuck_rows(now)
    result.seconds = time.monotonic() - clock
    return result


# --- track -----------------------------------------------------------------------------------
@dataclass
class TrackResult:
    due: int = 0
    projects: int = 0
    calls: int = 0
    checked: int = 0
    changed: int = 0
    gone: int = 0
    stuck: int = 0
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "track skipped: another track is running"
        return (
            f"tracked {self.due} due snapshots in {self.projects} projects with {self.calls} "
            f"cloud calls: {self.changed} changed, {self.gone} gone, {self.stuck} newly stuck"
        )


def track_snapshots(
    *, snapshot_id: str | None = None, gateway: Gateway | None = None
) -> TrackResult:
    """One tick of the tracker: every due transitional snapshot, one list call per project.

    With `snapshot_id` (an action asks for it), only that snapshot is checked, now: a
    transitional one by listing its project (which also refreshes the project's other
    transitional snapshots), any other one with a GET. A snapshot seen less than JUST_SEEN ago
    (the action's own answer) is not read again: a transitional one keeps its check FIRST_CHECK
    away, so a bulk action on a hundred snapshots costs one list call, not a hundred.

    Returns `skipped=True` when another tick holds the lease; a requested snapshot is then left
    due, for the next tick."""
    result = TrackResult()
    gateways: list[Gateway] = [gateway] if gateway is not None else []

    def gw() -> Gateway:
        if not gateways:
            gateways.append(service_gateway())
        return gateways[0]

    try:
        row = Snapshot.objects.filter(pk=snapshot_id).first() if snapshot_id else None
        if row is not None and timezone.now() - row.last_seen < timedelta(seconds=JUST_SEEN):
            pass  # just seen: a transitional one is checked on schedule, others are settled
        elif snapshot_id and (row is None or not row.is_transitional):
            _get_one(gw, snapshot_id, row, result)
        else:
            try:
                lease = locks.acquire(TRACK_LOCK, ttl=TRACK_LEASE)
            except locks.LockHeld:
                if row is not None:
                    now = timezone.now()
                    Snapshot.objects.filter(pk=row.pk, next_check_at__gt=now).update(
                        next_check_at=now
                    )
                result.skipped = True
                return result
            try:
                _track(gw, lease, result, only=row)
            finally:
                lease.release()
    except errors.CloudError as exc:
        _cloud_failed(exc)
        raise
    if result.calls:
        _cloud_answered()
    return result


def _get_one(
    gw: Callable[[], Gateway], snapshot_id: str, row: Snapshot | None, result: TrackResult
) -> None:
    """A snapshot the mirror does not hold as transitional: read it alone."""
    now = timezone.now()
    result.calls += 1
    try:
        data = gw().get_snapshot(snapshot_id)
    except errors.NotFound:
        if row is not None and mirror.mark_gone(
            snapshot_id, source=ChangeSource.TRACK, now=now, if_newer=True
        ):
            result.gone += 1
        return
    _, changed = mirror.apply(data, source=ChangeSource.TRACK, now=now, if_newer=True)
    result.checked += 1
    result.changed += int(changed)


def _track(
    gw: Callable[[], Gateway], lease: locks.Lease, result: TrackResult, only: Snapshot | None
) -> None:
    """The due snapshots of every project (or, with `only`, that one and its project's due)."""
    now = timezone.now()
    due = Snapshot.objects.transitional().filter(
        Q(next_check_at__lte=now) | Q(next_check_at__isnull=True)
    )
    if only is not None:
        due = due.filter(project_id=only.project_id)
    due_by_project: dict[str, set[str]] = defaultdict(set)
    for project_id, snapshot_id in due.values_list("project_id", "id"):
        due_by_project[project_id].add(snapshot_id)
    if only is not None:
        due_by_project[only.project_id].add(only.id)
    for project_id in sorted(due_by_project):
        _track_project(gw(), project_id, due_by_project[project_id], result)
        result.due += len(due_by_project[project_id])
        result.projects += 1
        lease.renew()
        reset_queries()
    if only is None:  # after the calls: they are what a waiting page wants first
        result.stuck = mirror.flag_stuck_rows(timezone.now())


def _track_project(gateway: Gateway, project_id: str, due_ids: set[str], result: TrackResult):
    page_size = settings.SYNC_PAGE_SIZE
    # Only what placing and scheduling need; whole rows are read for the ones Cinder answered.
    tracked = {
        row.id: row
        for row in Snapshot.objects.transitional()
        .filter(project_id=project_id)
        .only("id", "created_at", "status", "check_interval")
    }
    due = [tracked[i] for i in due_ids if i in tracked]
    if not due:
        return
    seen: dict[str, tuple[datetime, SnapshotData]] = {}  # tracked id -> (when, Cinder's view)
    proven_gone: dict[str, datetime] = {}  # tracked id -> when its absence was read

    # 1. One page of the project's newest snapshots (Cinder's default order), deep enough to
    # reach every due snapshot among the newest `page_size`, as snapshots just created or just
    # acted upon usually are. It also reaches the project's other transitional snapshots when
    # that keeps it light (FREE_DEPTH): seeing them costs nothing more, so a busy project's
    # changes show within a tick whatever their back-off.
    live = Snapshot.objects.live().filter(project_id=project_id)
    floor = live.order_by("-created_at").values_list("created_at", flat=True)
    floor = next(iter(floor[page_size - 1 : page_size]), None)

    def near(row: Snapshot) -> bool:
        return floor is None or row.created_at > floor

    deep = [row for row in due if not near(row)]
    if len(deep) < len(due):

        def depth(rows) -> int:
            return live.filter(created_at__gte=min(row.created_at for row in rows)).count()

        needed = depth([row for row in due if near(row)])
        wanted = depth([row for row in tracked.values() if near(row)])
        rows = max(needed, min(wanted, FREE_DEPTH))
        limit = min(page_size, rows + max(20, rows // 10))  # room for ones not synced yet
        observed_at = timezone.now()
        page = gateway.list_snapshots(all_projects=True, project_id=project_id, limit=limit)
        result.calls += 1
        for data in page.items:
            if data.id in tracked:
                seen[data.id] = (observed_at, data)
        # Everything newer than the page's last item was in the answer (all of it, if the
        # page was not full): a tracked snapshot in that range and not in the answer is gone.
        complete = len(page.items) < limit
        horizon = page.items[-1].created_at if page.items else None
        for row in tracked.values():
            if row.id not in seen and (complete or row.created_at > horizon):
                proven_gone[row.id] = observed_at
        deep += [
            row for row in due if near(row) and row.id not in seen and row.id not in proven_gone
        ]

    # 2. Deeper ones: one listing per status they are in; a GET for each one missing from it.
    for status in sorted({row.status for row in deep}):

        def fetch(marker: str | None, limit: int, status: str = status) -> list[SnapshotData]:
            return gateway.list_snapshots(
                all_projects=True, project_id=project_id, status=status, limit=limit, marker=marker
            ).items

        for observed_at, items in _pages(fetch, page_size):
            result.calls += 1
            for data in items:
                if data.id in tracked:
                    seen.setdefault(data.id, (observed_at, data))
    for row in deep:
        if row.id in seen:
            continue
        observed_at = timezone.now()
        result.calls += 1
        try:
            seen[row.id] = (observed_at, gateway.get_snapshot(row.id))
        except errors.NotFound:
            proven_gone[row.id] = observed_at

    # 3. Store what changed; stretch the wait of due snapshots whose status did not move.
    rows = {}
    for ids in mirror.chunks(seen):
        rows.update(Snapshot.objects.in_bulk(ids))
    for snapshot_id, (observed_at, data) in seen.items():
        result.checked += 1
        if snapshot_id in rows and mirror.differs(rows[snapshot_id], data):
            _, changed = mirror.apply(
                data, source=ChangeSource.TRACK, now=observed_at, if_newer=True
            )
            result.changed += int(changed)
    for snapshot_id, observed_at in proven_gone.items():
        if mirror.mark_gone(snapshot_id, source=ChangeSource.TRACK, now=observed_at, if_newer=True):
            result.gone += 1
    _back_off(
        [row for row in due if row.id in seen and seen[row.id][1].status == row.status],
        timezone.now(),
    )


def _back_off(rows: list[Snapshot], now: datetime) -> None:
    """Checked, status unchanged: next check twice as late. One UPDATE per (status, interval),
    conditional on both, so a row whose status an action just changed keeps its fresh plan."""
    groups: dict[tuple[str, float], list[str]] = defaultdict(list)
    for row in rows:
        groups[(row.status, row.check_interval)].append(row.id)
    for (status, interval), group in groups.items():
        longer = mirror.next_interval(interval)
        for ids in mirror.chunks(group):
            Snapshot.objects.filter(pk__in=ids, status=status, check_interval=interval).update(
                check_interval=longer, next_check_at=now + timedelta(seconds=longer)
            )
