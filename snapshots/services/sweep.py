"""The sweep: the whole inventory, read as the safety net under detection (services/detect.py).

Detection sees what listings show; the sweep catches what none does (a change that moved no
`updated_at`, rows removed behind Cinder's back). A round reads every volume and every snapshot,
page by page with markers, in Cinder's default order (newest created first).

Partitions: a round is cut, when it starts, into parts of about SWEEP_PART_ROWS snapshots each
by the mirror's own key order (part 0 is the volume listing). A part starts listing at the
marker of its upper boundary row and stops at the next part's boundary. Each part has its own
lease (`sweep-part-<n>`, short, renewed as pages go) and its own cursor, so several workers
read different parts at once and none reads a page another has read; a worker killed mid-part
loses its lease within SWEEP_LEASE seconds and the next worker goes on from the stored cursor.
If a part's boundary row has left Cinder (a marker Cinder no longer knows), the part starts at
the mirror's nearest rows above it, or at the top, and skips what lies above its range.

Spread over time: the beat calls `sweep_tick` every SWEEP_TICK seconds; each tick reads a few
pages (enough to finish a round within half of the round interval) of whichever parts are free,
and a new round starts a round interval after the previous one started. So even a large cloud
never sees the inventory as one burst. The round interval is SWEEP_INTERVAL, and the longer
SWEEP_EVENTS_INTERVAL while Cinder's notifications flow: they carry the changes and detection's
listing checks them, so the sweep is only the net under that net. `sweep_all` (`manage.py
sync_snapshots`, `make run` at start) runs one whole round at once. Whoever finishes a round's
last part closes the round.

Absence without writes: a page of a listing in a fixed order proves that nothing else lies
between its first and last keys, so a live mirror row whose (created_at, id) falls in that range
and is not on the page has left the cloud (volumes and snapshots alike). Rows that are on the
page and unchanged cost no write at all: a round over an unchanged cloud writes nothing but its
parts' cursors and leases.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from snapshots import memo
from snapshots.choices import ChangeSource
from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.cloud.dto import SnapshotData, VolumeData
from snapshots.cloud.gateway import Gateway
from snapshots.models import CloudState, DetectState, Project, Snapshot, SweepPart, Volume
from snapshots.services import listen, locks, mirror
from snapshots.services.listing import MARKER_RETRIES, cloud_answered, cloud_failed

log = logging.getLogger(__name__)

# Held by a whole round at once (`sweep_all`) and, briefly, by whoever cuts a new round into parts.
SWEEP_LOCK = "sweep"
PART_LOCK = "sweep-part-{}"
RUNNING = "parts"  # DetectState.sweep_phase while a round's parts are being read
# Rows of the mirror above a part's start tried as markers when Cinder no longer knows the start.
START_FALLBACKS = 8
Key = tuple[datetime, str]
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


# --- keys and ranges -------------------------------------------------------------------------
def _key(item: SnapshotData | VolumeData | Snapshot | Volume) -> Key:
    return (item.created_at, item.id)


def _between(upper: Key | None, lower: Key | None) -> Q:
    """Mirror rows whose (created_at, id) lies below `upper` (exclusive) and at or above `lower`
    (inclusive) in Cinder's default order (created_at desc, id desc); None: no bound."""
    # The plain `created_at` bounds say nothing the (created_at, id) terms do not; they are
    # there for the planner, which bounds an index range scan with them on both sides (with
    # the OR terms alone, PostgreSQL read every row above a page: a 1M-row sweep went
    # quadratic).
    q = Q()
    if upper is not None:
        q &= Q(created_at__lte=upper[0])
        q &= Q(created_at__lt=upper[0]) | Q(created_at=upper[0], id__lt=upper[1])
    if lower is not None:
        q &= Q(created_at__gte=lower[0])
        q &= Q(created_at__gt=lower[0]) | Q(created_at=lower[0], id__gte=lower[1])
    return q


def _above(key: Key) -> Q:
    return Q(created_at__gte=key[0]) & (
        Q(created_at__gt=key[0]) | Q(created_at=key[0], id__gt=key[1])
    )


def _part_key(created_at: datetime | None, row_id: str) -> Key | None:
    return (created_at, row_id) if created_at is not None and row_id else None


# --- storing a page --------------------------------------------------------------------------
class _Projects:
    """Project id -> the name to show. Keystone's names when the credential may list projects,
    else the names the mirror already has, else the id. Project rows exist for every id seen;
    only new or renamed ones are written."""

    def __init__(self, gateway: Callable[[], Gateway], now: datetime, *, listing: bool) -> None:
        listed = []
        try:
            if listing:
                listed = gateway().list_projects()
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


def _store_volumes(
    volumes: list[VolumeData],
    observed_at: datetime,
    absent: tuple[Key | None, Key | None],
    projects: _Projects,
    result: SweepResult,
) -> None:
    mirror.apply_volume_page(volumes, now=observed_at, touch_unchanged=False)
    projects.add({v.project_id for v in volumes}, observed_at)
    listed = {v.id for v in volumes}
    missing = [
        pk
        for pk in Volume.objects.filter(_between(*absent), deleted_at=None)
        .filter(last_seen__lte=observed_at)
        .values_list("pk", flat=True)
        if pk not in listed
    ]
    for ids in mirror.chunks(missing):
        result.volumes_gone += Volume.objects.filter(pk__in=ids, deleted_at=None).update(
            deleted_at=timezone.now()
        )
    if missing:
        memo.changed()
    result.volumes += len(volumes)


def _store_snapshots(
    snapshots: list[SnapshotData],
    observed_at: datetime,
    absent: tuple[Key | None, Key | None],
    projects: _Projects,
    result: SweepResult,
) -> None:
    """Store one page and mark gone what its key range proves absent."""
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
    listed = {s.id for s in snapshots}
    missing = [
        pk
        for pk in Snapshot.objects.live()
        .filter(_between(*absent), last_seen__lte=observed_at)
        .values_list("pk", flat=True)
        .iterator()
        if pk not in listed
    ]
    result.gone += mirror.mark_gone_many(missing, source=ChangeSource.SYNC, now=observed_at)
    result.pages += 1
    result.seen += len(snapshots)
    result.new += page.new
    result.changed += page.changed


# --- reading a part --------------------------------------------------------------------------
class _Renewal:
    """Renews the leases a worker holds, at most every quarter of their lifetime, so a page
    costs no lease write of its own while a dead worker's leases still expire in time."""

    def __init__(self, *leases: locks.Lease) -> None:
        self.leases = leases
        self.at = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.at >= settings.SWEEP_LEASE / 4:
            for lease in self.leases:
                lease.renew()
            self.at = time.monotonic()


def _listing(kind: str, gateway: Gateway) -> Callable[[str | None, int], list]:
    if kind == VOLUMES:
        return lambda marker, limit: gateway.list_volumes(
            all_projects=True, limit=limit, marker=marker
        )
    return lambda marker, limit: (
        gateway.list_snapshots(all_projects=True, limit=limit, marker=marker).items
    )


class _Listing:
    """Timed requests of one listing: (when requested, items). With `ahead`, the next page's
    request (after the last item of the page just returned) goes out in a thread of its own
    while the caller stores that page, so the cloud's time and the database's overlap; only
    the listing's requests run there, never the database."""

    def __init__(
        self, fetch: Callable[[str | None, int], list], *, ahead: bool, lower: Key | None
    ) -> None:
        self.fetch = fetch
        self.lower = lower  # no request ahead past the part's end
        self.pool = ThreadPoolExecutor(max_workers=1) if ahead else None
        self.pending: tuple[tuple[str, int], Future] | None = None

    def _timed(self, marker: str | None, limit: int) -> tuple[datetime, list]:
        observed_at = timezone.now()
        return observed_at, self.fetch(marker, limit)

    def __call__(self, marker: str | None, limit: int) -> tuple[datetime, list]:
        pending, self.pending = self.pending, None
        if pending is not None and pending[0] == (marker, limit):
            observed_at, items = pending[1].result()
        else:
            if pending is not None:
                pending[1].cancel()
            observed_at, items = self._timed(marker, limit)
        beyond = self.lower is not None and items and _key(items[-1]) <= self.lower
        if self.pool is not None and len(items) == limit and not beyond:
            after = items[-1].id
            self.pending = ((after, limit), self.pool.submit(self._timed, after, limit))
        return observed_at, items

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _part_pages(
    part: SweepPart, listing: _Listing, page_size: int
) -> Iterator[tuple[datetime, list, Key | None]]:
    """(when requested, items, key the items lie below) for each page of the part's listing,
    from its cursor (or its upper boundary) on; the key is given with the first page only (None
    after it: below the previous page). When Cinder no longer knows that marker, the listing
    starts after the nearest row above it that the mirror knows, and failing those at the top:
    a range read twice is stored twice, which writes nothing the second time. When the marker
    (the last item of the previous page) leaves Cinder between two requests, the listing goes
    on after an earlier item of that page, as services/listing.py's `pages` does."""
    model = Volume if part.kind == VOLUMES else Snapshot
    key = _part_key(part.cursor_created_at, part.cursor_id) or _part_key(
        part.upper_created_at, part.upper_id
    )
    candidates: list[tuple[str, Key]] = []
    if key is not None:
        above = model.objects.filter(_above(key), deleted_at=None).order_by("created_at", "id")
        candidates = [(key[1], key), *((r.id, _key(r)) for r in above[:START_FALLBACKS])]
    start: Key | None = None
    for marker, below in [*candidates, (None, None)]:
        try:
            observed_at, items = listing(marker, page_size)
        except errors.NotFound:
            if marker is None:
                raise
            continue
        start = below
        break
    yield observed_at, items, start
    while len(items) == page_size:
        previous = [item.id for item in items]
        for marker in reversed(previous[-(MARKER_RETRIES + 1) :]):
            try:
                observed_at, items = listing(marker, page_size)
                break
            except errors.NotFound:
                continue
        else:
            raise errors.Unavailable(
                "The listing changed too much while it was read; it will be read again"
            )
        yield observed_at, items, None


def _read_part(
    part: SweepPart,
    gateway: Gateway,
    *,
    page_size: int,
    budget: float,
    renew: Callable[[], None],
    projects: _Projects,
    on_page: Callable[[int, int], Any] | None,
    result: SweepResult,
) -> int:
    """Read `part` from its cursor for up to `budget` pages; returns the pages read. Raises
    locks.LockLost when its round was replaced meanwhile (its cursor is then not ours)."""
    store = _store_volumes if part.kind == VOLUMES else _store_snapshots
    lower = _part_key(part.lower_created_at, part.lower_id)
    mine = SweepPart.objects.filter(index=part.index, round_started_at=part.round_started_at)
    upper: Key | None = None
    read = 0
    # Ahead only when the part is read to its end: a tick's last page would cost a call more.
    # The request ahead runs in a thread without the database: the reachability-recording
    # wrapper is left out there, and the sweep records the outcome itself (cloud_answered,
    # cloud_failed).
    unrecorded = getattr(gateway, "unrecorded", None)
    ahead = budget == math.inf
    fetch = _listing(part.kind, unrecorded() if ahead and unrecorded else gateway)
    listing = _Listing(fetch, ahead=ahead, lower=lower)
    try:
        for observed_at, raw, start in _part_pages(part, listing, page_size):
            if read == 0:
                upper = start
            read += 1
            kept = [i for i in raw if lower is None or _key(i) >= lower]
            done = len(raw) < page_size or len(kept) < len(raw)
            done = done or (lower is not None and _key(kept[-1]) == lower)
            absent = (upper, lower if done else _key(kept[-1]))
            store(kept, observed_at, absent, projects, result)
            if part.kind == SNAPSHOTS and on_page is not None:
                on_page(result.pages, result.seen)
            renew()
            reset_queries()  # DEBUG keeps every query in memory otherwise
            if done:
                if not mine.update(done_at=timezone.now(), pages=F("pages") + 1):
                    raise locks.LockLost("the sweep round was replaced by a newer one")
                return read
            upper = _key(kept[-1])
            moved = mine.update(
                cursor_created_at=upper[0], cursor_id=upper[1], pages=F("pages") + 1
            )
            if not moved:
                raise locks.LockLost("the sweep round was replaced by a newer one")
            if read >= budget:
                return read
    finally:
        listing.close()
    return read  # not reached: a listing ends with a short page


# --- rounds ----------------------------------------------------------------------------------
def round_interval() -> float:
    """Seconds from one round's start to the next: SWEEP_INTERVAL, or SWEEP_EVENTS_INTERVAL
    (when longer) while Cinder's notifications flow."""
    if listen.events_flow():
        return max(settings.SWEEP_INTERVAL, settings.SWEEP_EVENTS_INTERVAL)
    return settings.SWEEP_INTERVAL


def _pages_per_tick(page_size: int) -> int:
    """Enough pages a tick to read the whole inventory within half a round interval."""
    rows = Snapshot.objects.live().count() + Volume.objects.filter(deleted_at=None).count()
    ticks = max(1.0, round_interval() / 2 / settings.SWEEP_TICK)
    return max(1, math.ceil((rows / page_size + 2) / ticks))


def _plan(now: datetime) -> None:
    """Cut a new round into parts: the volume listing, then every SWEEP_PART_ROWS live snapshots
    of the mirror's key order (an empty mirror: one part, the whole listing)."""
    every = max(1, settings.SWEEP_PART_ROWS)
    # Every `every`-th key, numbered by the database: a million rows never reach Python.
    order = [F("created_at").desc(), F("id").desc()]
    numbered = (
        Snapshot.objects.live()
        .annotate(n=Window(RowNumber(), order_by=order))
        .annotate(nth=F("n") % every)
        .filter(nth=0)
        .order_by("n")
    )
    bounds: list[Key] = list(numbered.values_list("created_at", "id"))
    if bounds and len(bounds) * every == Snapshot.objects.live().count():
        bounds.pop()  # nothing below the last row: no part for it
    parts = [SweepPart(index=0, kind=VOLUMES, round_started_at=now)]
    ranges = zip([None, *bounds], [*bounds, None], strict=True)
    for index, (upper, lower) in enumerate(ranges, start=1):
        parts.append(
            SweepPart(
                index=index,
                kind=SNAPSHOTS,
                round_started_at=now,
                upper_created_at=upper[0] if upper else None,
                upper_id=upper[1] if upper else "",
                lower_created_at=lower[0] if lower else None,
                lower_id=lower[1] if lower else "",
            )
        )
    with transaction.atomic():
        SweepPart.objects.all().delete()
        SweepPart.objects.bulk_create(parts)
        DetectState.get()
        DetectState.objects.filter(id=1).update(
            sweep_phase=RUNNING, sweep_marker="", sweep_key=[], sweep_started_at=now
        )
    CloudState.get()
    CloudState.objects.filter(id=1).update(last_sync_started_at=now)


def _running(state: DetectState) -> bool:
    return state.sweep_phase == RUNNING and state.sweep_started_at is not None


def _close(started: datetime, result: SweepResult) -> None:
    """Close the round when none of its parts is left; one worker wins the conditional UPDATE."""
    if SweepPart.objects.filter(round_started_at=started, done_at=None).exists():
        return
    closed = DetectState.objects.filter(id=1, sweep_phase=RUNNING, sweep_started_at=started).update(
        sweep_phase="", sweep_finished_at=timezone.now()
    )
    if closed:
        result.stuck = mirror.flag_stuck_rows(timezone.now())
        result.finished = True
        mirror.refresh_statistics_if_grown()


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
    held: list[locks.Lease] = []
    connected: list[Gateway] = [gateway] if gateway is not None else []

    def cloud() -> Gateway:
        if not connected:
            connected.append(service_gateway())
        return connected[0]

    try:
        state = DetectState.get()
        now = timezone.now()
        planned = False
        if whole:
            held.append(locks.acquire(SWEEP_LOCK, ttl=settings.SWEEP_LEASE))
            _plan(now)
            planned = True
        elif not _running(state):
            due = state.sweep_started_at is None or (
                (now - state.sweep_started_at).total_seconds() >= round_interval()
            )
            if state.sweep_phase == "" and not due:
                result.idle = True
                return result
            with locks.held(SWEEP_LOCK, ttl=settings.SWEEP_LEASE):
                if not _running(DetectState.get()):  # nobody planned it meanwhile
                    _plan(now)
                    planned = True
        state = DetectState.get()
        started = state.sweep_started_at
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_SYNC_CACHE_KIB}")
        # The very first round (an empty mirror) is read at once: pages want the data.
        budget = (
            math.inf if whole or state.sweep_finished_at is None else _pages_per_tick(page_size)
        )
        # Keystone's names once a round, when it is cut; later ticks use what the mirror holds.
        projects = _Projects(cloud, started, listing=planned)
        todo = SweepPart.objects.filter(round_started_at=started, done_at=None)
        for index in todo.values_list("index", flat=True):
            try:
                lease = locks.acquire(PART_LOCK.format(index), ttl=settings.SWEEP_LEASE)
            except locks.LockHeld:
                continue  # another worker reads it
            try:
                # Read under the lease: the cursor as the last holder left it.
                part = SweepPart.objects.filter(index=index, round_started_at=started).first()
                if part is None or part.done_at is not None:
                    continue
                budget -= _read_part(
                    part,
                    cloud(),
                    page_size=page_size,
                    budget=budget,
                    renew=_Renewal(lease, *held),
                    projects=projects,
                    on_page=on_page,
                    result=result,
                )
            finally:
                lease.release()
            if budget <= 0:
                break
        _close(started, result)
    except errors.CloudError as exc:
        cloud_failed(exc)
        raise
    finally:
        for lease in held:
            lease.release()
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
    """One beat tick: a few more pages of the current round's free parts, or a new round when
    one is due. Raises locks.LockHeld when another worker is cutting a round or sweeping it all
    at once, errors.CloudError on an outage."""
    return _sweep(gateway=gateway, whole=False, page_size=None, on_page=None)


def sweep_all(
    *,
    gateway: Gateway | None = None,
    page_size: int | None = None,
    on_page: Callable[[int, int], Any] | None = None,
) -> SweepResult:
    """A whole round now (a fresh one, whatever the spread-out round had reached). Parts another
    worker holds are left to it; the round closes with whoever reads the last part.

    `on_page(pages, snapshots)` is called after each snapshot page is stored."""
    return _sweep(gateway=gateway, whole=True, page_size=page_size, on_page=on_page)
