"""The sweep: the whole inventory, read as the safety net under detection (services/detect.py).

Detection sees what listings show; the sweep catches what none does (a change that moved no
`updated_at`, rows removed behind Cinder's back). A round reads every volume, then every
snapshot, page by page with markers, in Cinder's default order (newest created first).

Spread over time: the beat calls `sweep_tick` every SWEEP_TICK seconds; each tick reads a few
pages (enough to finish a round within half of SWEEP_INTERVAL) from where the last one stopped,
kept in DetectState, and a new round starts SWEEP_INTERVAL after the previous one started. So
even a large cloud never sees the inventory as one burst. `sweep_all` (`manage.py
sync_snapshots`, `make run` at start) runs one whole round at once.

Absence without writes: a page of a listing in a fixed order proves that nothing else lies
between its first and last keys, so a live mirror row whose (created_at, id) falls in that range
and is not on the page has left the cloud. Rows that are on the page and unchanged cost no write
at all: a round over an unchanged cloud writes nothing but its own cursor.

The round holds the lease `sweep` (short, renewed after every page): a worker killed mid-round
loses it within SWEEP_LEASE seconds and the next tick, on any worker, goes on from the stored
cursor; the work already stored is not done again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from snapshots.choices import ChangeSource
from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.cloud.dto import SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import CloudState, DetectState, Project, Snapshot, Volume
from snapshots.services import locks, mirror
from snapshots.services.listing import cloud_answered, cloud_failed, pages

log = logging.getLogger(__name__)

SWEEP_LOCK = "sweep"
# SQLite's page cache for the sweeping connection (KiB). The default 2 MB makes every insert into
# the mirror's dozen indexes read pages back.
SQLITE_SYNC_CACHE_KIB = 32768
VOLUMES, SNAPSHOTS = "volumes", "snapshots"


@dataclass
class SweepResult:
    seen: int = 0
    new: int = 0
    changed: int = 0
    gone: int = 0
    pages: int = 0
    volumes: int = 0
    volumes_gone: int = 0
    stuck: int = 0
    seconds: float = 0.0
    finished: bool = False
    idle: bool = False  # nothing to do: the round is done and the next is not due

    def summary(self) -> str:
        if self.idle:
            return "sweep: nothing due"
        return (
            f"synced {self.seen} snapshots ({self.new} new, {self.changed} changed, "
            f"{self.gone} gone) in {self.seconds:.1f} s"
        )


class _Projects:
    """Project id -> the name to show. Keystone's names when the credential may list projects,
    else the names the mirror already has, else the id. Project rows exist for every id seen;
    only new or renamed ones are written."""

    def __init__(self, gateway: Gateway, now: datetime, *, listing: bool = True) -> None:
        listed = []
        try:
            if listing:
                listed = gateway.list_projects()
        except errors.CloudError as exc:  # names are a nicety: never fail a sync for them
            log.warning("could not list projects (%s); showing ids for unknown ones", exc)
        known = {
            pid: (name, domain)
            for pid, name, domain in Project.objects.values_list("id", "name", "domain_id")
        }
        fresh = [p for p in listed if known.get(p.id) != (p.name, p.domain_id)]
        if fresh:
            Project.objects.bulk_create(
                [
                    Project(id=p.id, name=p.name, domain_id=p.domain_id, last_seen=now)
                    for p in fresh
                ],
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=["name", "domain_id", "last_seen"],
            )
            known.update({p.id: (p.name, p.domain_id) for p in fresh})
        self.known = set(known)
        self.names = {pid: name for pid, (name, _) in known.items() if name}

    def add(self, project_ids: set[str], now: datetime) -> None:
        missing = project_ids - self.known
        if missing:
            Project.objects.bulk_create(
                [Project(id=pid, last_seen=now) for pid in missing], ignore_conflicts=True
            )
            self.known |= missing


# --- a page of each listing ----------------------------------------------------------------
def _volume_page(volumes: list, observed_at: datetime, projects: _Projects) -> None:
    mirror.apply_volume_page(volumes, now=observed_at)
    projects.add({v.project_id for v in volumes}, observed_at)


def _key(data: SnapshotData | Snapshot) -> tuple[datetime, str]:
    return (data.created_at, data.id)


def _between(upper: tuple[datetime, str] | None, lower: tuple[datetime, str] | None) -> Q:
    """Mirror rows whose (created_at, id) lies below `upper` (exclusive) and at or above `lower`
    (inclusive) in Cinder's default order (created_at desc, id desc); None: no bound."""
    q = Q()
    if upper is not None:
        q &= Q(created_at__lt=upper[0]) | Q(created_at=upper[0], id__lt=upper[1])
    if lower is not None:
        q &= Q(created_at__gt=lower[0]) | Q(created_at=lower[0], id__gte=lower[1])
    return q


def _snapshot_page(
    snapshots: list[SnapshotData],
    observed_at: datetime,
    *,
    upper: tuple[datetime, str] | None,
    last: bool,
    projects: _Projects,
    result: SweepResult,
) -> None:
    """Store one page and mark gone what its range proves absent (everything below it too, when
    it is the listing's last page)."""
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
        touch_unchanged=False,
    )
    lower = None if last or not snapshots else _key(snapshots[-1])
    listed = {s.id for s in snapshots}
    missing = [
        pk
        for pk in Snapshot.objects.live()
        .filter(_between(upper, lower), last_seen__lte=observed_at)
        .values_list("pk", flat=True)
        .iterator()
        if pk not in listed
    ]
    result.gone += mirror.mark_gone_many(missing, source=ChangeSource.SYNC, now=observed_at)
    result.pages += 1
    result.seen += len(snapshots)
    result.new += page.new
    result.changed += page.changed


# --- rounds ----------------------------------------------------------------------------------
def _pages_per_tick(page_size: int) -> int:
    """Enough pages a tick to read the whole inventory within half a SWEEP_INTERVAL."""
    rows = Snapshot.objects.live().count() + Volume.objects.filter(deleted_at=None).count()
    ticks = max(1.0, settings.SWEEP_INTERVAL / 2 / settings.SWEEP_TICK)
    return max(1, math.ceil((rows / page_size + 2) / ticks))


def _run(
    gateway: Gateway,
    lease: locks.Lease,
    state: DetectState,
    *,
    page_size: int,
    max_pages: int | None,
    on_page: Callable[[int, int], Any] | None,
    result: SweepResult,
) -> None:
    """Go on with the round in `state` for up to `max_pages` pages (None: to its end)."""
    started = state.sweep_started_at
    # Keystone's names once a round, at its start; later ticks use what the mirror holds.
    projects = _Projects(
        gateway, started, listing=state.sweep_phase == VOLUMES and not state.sweep_marker
    )
    budget = math.inf if max_pages is None else max_pages

    def save(**fields: Any) -> None:
        for name, value in fields.items():
            setattr(state, name, value)
        DetectState.objects.filter(id=1).update(**fields)

    if state.sweep_phase == VOLUMES:

        def fetch_volumes(marker: str | None, limit: int) -> list:
            return gateway.list_volumes(all_projects=True, limit=limit, marker=marker)

        earlier = state.sweep_key if isinstance(state.sweep_key, list) else []
        for observed_at, volumes in pages(
            fetch_volumes, page_size, state.sweep_marker or None, earlier[-4:]
        ):
            _volume_page(volumes, observed_at, projects)
            result.volumes += len(volumes)
            budget -= 1
            lease.renew()
            reset_queries()  # DEBUG keeps every query in memory otherwise
            if len(volumes) < page_size:
                break
            save(sweep_marker=volumes[-1].id, sweep_key=[v.id for v in volumes[-4:]])
            if budget <= 0:
                return
        result.volumes_gone = mirror.mark_vanished_volumes(seen_since=started, now=timezone.now())
        save(sweep_phase=SNAPSHOTS, sweep_marker="", sweep_key=[])
        if budget <= 0:
            return

    def fetch_snapshots(marker: str | None, limit: int) -> list[SnapshotData]:
        return gateway.list_snapshots(all_projects=True, limit=limit, marker=marker).items

    stored = state.sweep_key if isinstance(state.sweep_key, dict) else {}
    upper = None
    if stored.get("created_at"):
        upper = (parse_datetime(stored["created_at"]), stored["id"])
    for observed_at, snapshots in pages(
        fetch_snapshots, page_size, state.sweep_marker or None, stored.get("earlier", [])
    ):
        last = len(snapshots) < page_size
        _snapshot_page(
            snapshots, observed_at, upper=upper, last=last, projects=projects, result=result
        )
        budget -= 1
        lease.renew()
        reset_queries()
        if on_page is not None:
            on_page(result.pages, result.seen)
        if last:
            break
        upper = _key(snapshots[-1])
        save(
            sweep_marker=snapshots[-1].id,
            sweep_key={
                "created_at": upper[0].isoformat(),
                "id": upper[1],
                "earlier": [s.id for s in snapshots[-4:]],
            },
        )
        if budget <= 0:
            return
    result.stuck = mirror.flag_stuck_rows(timezone.now())
    result.finished = True
    save(sweep_phase="", sweep_marker="", sweep_key=[], sweep_finished_at=timezone.now())


def _start_round(state: DetectState, now: datetime) -> None:
    state.sweep_phase, state.sweep_marker, state.sweep_key = VOLUMES, "", []
    state.sweep_started_at = now
    DetectState.objects.filter(id=1).update(
        sweep_phase=VOLUMES, sweep_marker="", sweep_key=[], sweep_started_at=now
    )
    CloudState.get()
    CloudState.objects.filter(id=1).update(last_sync_started_at=now)


def _sweep(
    *,
    gateway: Gateway | None,
    whole: bool,
    page_size: int | None,
    on_page: Callable[[int, int], Any] | None,
) -> SweepResult:
    result = SweepResult()
    clock = time.monotonic()
    page_size = page_size or settings.SYNC_PAGE_SIZE
    with locks.held(SWEEP_LOCK, ttl=settings.SWEEP_LEASE) as lease:
        state = DetectState.get()
        now = timezone.now()
        if whole:
            _start_round(state, now)
        elif not state.sweep_phase:
            due = state.sweep_started_at is None or (
                (now - state.sweep_started_at).total_seconds() >= settings.SWEEP_INTERVAL
            )
            if not due:
                result.idle = True
                return result
            _start_round(state, now)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_SYNC_CACHE_KIB}")
        try:
            _run(
                gateway or service_gateway(),
                lease,
                state,
                page_size=page_size,
                # The very first round (an empty mirror) is read at once: pages want the data.
                max_pages=None
                if whole or state.sweep_finished_at is None
                else _pages_per_tick(page_size),
                on_page=on_page,
                result=result,
            )
        except errors.CloudError as exc:
            cloud_failed(exc)
            raise
    result.seconds = time.monotonic() - clock
    if result.finished:
        CloudState.objects.filter(id=1).update(
            reachable=True, last_sync_ok_at=timezone.now(), last_sync_summary=result.summary()
        )
        log.info(result.summary())
    else:
        cloud_answered()
    return result


def sweep_tick(*, gateway: Gateway | None = None) -> SweepResult:
    """One beat tick: a few more pages of the current round, or a new round when one is due.
    Raises locks.LockHeld when another worker is sweeping, errors.CloudError on an outage."""
    return _sweep(gateway=gateway, whole=False, page_size=None, on_page=None)


def sweep_all(
    *,
    gateway: Gateway | None = None,
    page_size: int | None = None,
    on_page: Callable[[int, int], Any] | None = None,
) -> SweepResult:
    """A whole round now (a fresh one, whatever the spread-out round had reached).

    `on_page(pages, snapshots)` is called after each snapshot page is stored."""
    return _sweep(gateway=gateway, whole=True, page_size=page_size, on_page=on_page)
