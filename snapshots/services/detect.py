"""Change detection: what changed in the cloud since the last tick, at a cost that follows the
change, not the inventory. Cloud-wide listings with the service credential; no project loops.

One tick (beat, every DETECT_INTERVAL seconds; every DETECT_EVENTS_INTERVAL while Cinder's
notifications flow and this is only their safety net) has these parts:

recent
    The most recently updated snapshots (`sort=updated_at:desc`), page after page only down to
    the newest `updated_at` the previous tick saw (less OVERLAP, for rows committed late), with
    Cinder's total count in the same answer (`with_count`, 3.45). A rename, a metadata change, a
    reset or a status change moves `updated_at`, so they all surface here. A snapshot just
    created has no `updated_at` yet, and one created and deleted between two ticks never shows
    at all; both move the count.
    At idle the top row stays the same tick after tick: once it has been the top for longer
    than OVERLAP (so no row committed late can still appear under it), a tick asks only for
    that one row and the count (the probe), and reads the page only when the top changed.
    Cinder has no index on `updated_at`: every listing sorts the whole table, so the rows
    serialised are what a probe saves.
count
    When Cinder's count and the mirror's disagree, the newest-created listing is read (a
    targeted sweep): new rows are stored, and a row the mirror has between two keys of a page
    but the page lacks is gone. It stops as soon as the counts agree; a count a walk to the end
    could not explain is left to the sweep.
status:<s>
    One listing per transitional status present in the mirror (paged to its end: such sets are
    small). A snapshot of that status missing from it, and not seen by `recent`, costs one GET.
    A status whose rows are all stuck (past STUCK_AFTER) is checked at most every STUCK_RECHECK,
    first by its count alone (`limit=0`, `with_count`): listed only when Cinder counts another
    number than the mirror holds.

Each part holds its own short lease (`detect:recent`, `detect:count`, `detect:status:creating`),
so ticks on several workers share the parts and a slow part never blocks the others; a dead
worker's part is free again within DETECT_LEASE seconds. The tick itself claims its period
(TickSlot), so two beats sending the same tick run it once. Everything goes through
services/mirror.py with the time the listing was requested: an older observation never
overwrites a newer one, and a row that did not change is not written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.cloud.dto import SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import DetectState, Snapshot
from snapshots.services import listen, locks, mirror
from snapshots.services.listing import cloud_answered, cloud_failed, pages
from snapshots.services.sweep import _between, _key

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=5)  # re-read below the watermark: rows committed after we listed
RECENT_PAGE = 50  # the first page of a listing that is usually shallow
PROBE = 1  # rows of the idle probe: the top of the recent listing, with the count
MAX_RECENT_PAGES = 20  # deeper than this, the sweep catches up
# Seconds between listings of a status whose rows are all stuck. Any change to them moves
# updated_at and shows in the recent listing within a tick; this listing only finds the ones
# that left without a trace the count missed.
STUCK_RECHECK = 60.0
JUST_SEEN = 1.0  # seconds: an action's own answer is fresh enough, the next tick follows it


@dataclass
class DetectResult:
    calls: int = 0
    listed: int = 0
    changed: int = 0
    gone: int = 0
    stuck: int = 0
    parts: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # parts another worker was doing
    skipped: bool = False  # the whole tick: its period was already claimed
    events: bool = False  # notifications flow: transitional statuses were not listed
    # changes Cinder made while the listener was on the bus that reached the mirror by this tick
    # rather than by their notification
    unannounced: int = 0

    def summary(self) -> str:
        if self.skipped:
            return "detect skipped: this period's tick already ran"
        text = (
            f"detected {self.changed} changed and {self.gone} gone among {self.listed} listed "
            f"with {self.calls} cloud calls"
        )
        if self.busy:
            text += f" ({', '.join(self.busy)} busy elsewhere)"
        return text


class _Tick:
    def __init__(self, gateway: Gateway | None) -> None:
        self._gateway = gateway
        self.result = DetectResult()
        self.seen: set[str] = set()  # ids some listing of this tick returned
        self.count: int | None = None  # Cinder's total, from the recent listing
        self.listening_since: datetime | None = None  # set while notifications flow

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = service_gateway()
        return self._gateway

    def store(self, observed: list[tuple[datetime, SnapshotData]], source: str) -> None:
        """Apply what differs from the mirror; rows that agree cost no write."""
        rows: dict[str, Snapshot] = {}
        for ids in mirror.chunks({data.id for _, data in observed}):
            rows.update(Snapshot.objects.in_bulk(ids))
        for observed_at, data in observed:
            self.seen.add(data.id)
            self.result.listed += 1
            row = rows.get(data.id)
            if row is None or mirror.differs(row, data):
                _, changed = mirror.apply(
                    data, source=source, now=observed_at, if_newer=True, discovered=True
                )
                self.result.changed += int(changed)
                if changed and self._unannounced(row, data):
                    self.result.unannounced += 1

    def _unannounced(self, row: Snapshot | None, data: SnapshotData) -> bool:
        """While notifications flow: a change Cinder made after the listener started that no
        event brought (the row's time is older than the change; an event's stamp is the time
        Cinder sent it, after the change). A listing also carries what a payload lacks (the
        description, the progress): storing those is no sign of a lost event. A snapshot found
        gone carries no time, so it is not counted either way."""
        made_at = data.updated_at or data.created_at
        if self.listening_since is None or made_at is None or made_at <= self.listening_since:
            return False
        return row is None or row.updated_at is None or row.updated_at < made_at

    def list(self, **query) -> tuple[datetime, list[SnapshotData], int | None]:
        observed_at = timezone.now()
        page = self.gateway.list_snapshots(all_projects=True, **query)
        self.result.calls += 1
        return observed_at, page.items, page.count


def _part(tick: _Tick, name: str, work: Callable[[locks.Lease], None]) -> None:
    try:
        lease = locks.acquire(name, ttl=settings.DETECT_LEASE)
    except locks.LockHeld:
        tick.result.busy.append(name)
        return
    try:
        work(lease)
        tick.result.parts.append(name)
    finally:
        lease.release()


# --- recent ----------------------------------------------------------------------------------
def _quiet(state: DetectState, now: datetime) -> bool:
    """Whether the top of the recent listing has stayed put for longer than OVERLAP."""
    seen = state.recent_top_seen_at
    return bool(state.recent_top) and seen is not None and now - seen > OVERLAP


def _same_top(state: DetectState, top: SnapshotData | None) -> bool:
    if top is None:
        return not state.recent_top
    return (top.id, top.updated_at) == (state.recent_top, state.recent_top_updated_at)


def _recent(tick: _Tick, lease: locks.Lease) -> None:
    state = DetectState.get()
    count: int | None = None
    if state.watermark is not None and _quiet(state, timezone.now()):
        _, items, count = tick.list(sort="updated_at:desc", limit=PROBE, with_count=True)
        if _same_top(state, items[0] if items else None):
            tick.count = count
            return
    floor = state.watermark - OVERLAP if state.watermark else None
    observed: list[tuple[datetime, SnapshotData]] = []
    marker = None
    limit = RECENT_PAGE
    for _ in range(MAX_RECENT_PAGES):
        observed_at, items, page_count = tick.list(
            sort="updated_at:desc", limit=limit, marker=marker, with_count=count is None
        )
        count = page_count if count is None else count
        observed += [(observed_at, data) for data in items]
        lease.renew()
        bottom = items[-1].updated_at if items else None
        if floor is None or len(items) < limit or bottom is None or bottom < floor:
            break
        marker, limit = items[-1].id, settings.SYNC_PAGE_SIZE
    fresh = [
        (at, data)
        for at, data in observed
        if floor is None or (data.updated_at is not None and data.updated_at >= floor)
    ]
    tick.store(fresh, ChangeSource.TRACK)
    # Cinder's own clock, never compared with ours: a Cinder clock minutes ahead or behind the
    # dashboard's changes nothing. (A Cinder clock stepped backwards hides changes until the
    # sweep; OVERLAP absorbs small steps.)
    newest = max((d.updated_at for _, d in observed if d.updated_at), default=None)
    if newest is not None and (state.watermark is None or newest > state.watermark):
        DetectState.objects.filter(id=1).update(watermark=newest)
    top = observed[0] if observed else None
    if not _same_top(state, top[1] if top else None):
        DetectState.objects.filter(id=1).update(
            recent_top=top[1].id if top else "",
            recent_top_updated_at=top[1].updated_at if top else None,
            recent_top_seen_at=top[0] if top else None,
        )
    tick.count = count


def _reconcile_count(tick: _Tick, lease: locks.Lease, count: int) -> None:
    """Cinder counts `count` snapshots. If the mirror holds another number, walk the newest-
    created listing until the difference is explained (new rows stored, absent rows gone)."""
    held = Snapshot.objects.live().count()
    if held == count or DetectState.get().unexplained_count == count:
        return

    def fetch(marker: str | None, limit: int) -> list[SnapshotData]:
        tick.result.calls += 1
        return tick.gateway.list_snapshots(all_projects=True, limit=limit, marker=marker).items

    upper = None
    more = count > held  # new ones to find (else: gone ones)
    # New snapshots are at the top: a short page finds them. A deleted one may be anywhere:
    # whole pages, so that even a walk deep into a large cloud takes few calls.
    size = RECENT_PAGE if more else settings.SYNC_PAGE_SIZE
    for observed_at, items in pages(fetch, size):
        before = Snapshot.objects.live().filter(pk__in=[d.id for d in items]).count()
        tick.store([(observed_at, data) for data in items], ChangeSource.TRACK)
        held += len(items) - before  # rows this page added to (or brought back into) the mirror
        last = len(items) < size
        lower = None if last or not items else _key(items[-1])
        listed = {d.id for d in items}
        missing = [
            pk
            for pk in Snapshot.objects.live()
            .filter(_between(upper, lower), last_seen__lte=observed_at)
            .values_list("pk", flat=True)
            if pk not in listed
        ]
        gone = mirror.mark_gone_many(missing, source=ChangeSource.TRACK, now=observed_at)
        tick.result.gone += gone
        held -= gone
        lease.renew()
        if held >= count if more else held <= count:
            return
        if last:
            DetectState.objects.filter(id=1).update(unexplained_count=count)
            return
        upper = lower


# --- one status --------------------------------------------------------------------------------
def _statuses_to_list(state: DetectState, now: datetime) -> list[str]:
    """Transitional statuses present in the mirror; all-stuck ones only every STUCK_RECHECK."""
    wanted = []
    rows = (
        Snapshot.objects.transitional()
        .order_by()
        .values("status")
        .annotate(active=Count("id", filter=Q(stuck_since__isnull=True)))
    )
    for row in rows:
        status, active = row["status"], row["active"]
        if active:
            wanted.append(status)
            continue
        listed = state.stuck_listed.get(status)
        if listed is None or (now - datetime.fromisoformat(listed)).total_seconds() >= (
            STUCK_RECHECK
        ):
            wanted.append(status)
    return sorted(wanted)


def _stuck_listed(status: str, at: datetime) -> None:
    state = DetectState.get()
    state.stuck_listed[status] = at.isoformat()
    DetectState.objects.filter(id=1).update(stuck_listed=state.stuck_listed)


def _count_agrees(tick: _Tick, status: str) -> bool:
    """Cinder counts as many snapshots of `status` as the mirror holds (one call, no rows)."""
    _, _, count = tick.list(status=status, limit=0, with_count=True)
    return count is not None and count == Snapshot.objects.live().filter(status=status).count()


def _status(tick: _Tick, lease: locks.Lease, status: str) -> None:
    def fetch(marker: str | None, limit: int) -> list[SnapshotData]:
        tick.result.calls += 1
        return tick.gateway.list_snapshots(
            all_projects=True, status=status, limit=limit, marker=marker
        ).items

    started = timezone.now()
    # All stuck: any change to them moves updated_at and shows in the recent listing; only one
    # that left without a trace is looked for here, and it leaves the count short.
    stuck = not Snapshot.objects.transitional().filter(status=status, stuck_since=None).exists()
    if stuck and _count_agrees(tick, status):
        _stuck_listed(status, started)
        return
    observed: list[tuple[datetime, SnapshotData]] = []
    for observed_at, items in pages(fetch, settings.SYNC_PAGE_SIZE):
        observed += [(observed_at, data) for data in items]
        lease.renew()
    listed = {data.id for _, data in observed}
    tick.store(observed, ChangeSource.TRACK)
    # Rows the mirror still has in this status, not listed: they moved on or left. Rows written
    # since the listing started (an action, another part) already know better.
    left = (
        Snapshot.objects.live()
        .filter(status=status, last_seen__lte=started)
        .exclude(pk__in=list(listed))
        .values_list("pk", flat=True)
    )
    for snapshot_id in list(left):
        if snapshot_id not in tick.seen:
            _get(tick, snapshot_id)
            lease.renew()
    if not Snapshot.objects.transitional().filter(status=status, stuck_since=None).exists():
        _stuck_listed(status, started)


def _get(tick: _Tick, snapshot_id: str) -> None:
    observed_at = timezone.now()
    tick.result.calls += 1
    try:
        data = tick.gateway.get_snapshot(snapshot_id)
    except errors.NotFound:
        if mirror.mark_gone(snapshot_id, source=ChangeSource.TRACK, now=observed_at, if_newer=True):
            tick.result.gone += 1
        return
    tick.store([(observed_at, data)], ChangeSource.TRACK)


# --- entry points ------------------------------------------------------------------------------
def detect(*, gateway: Gateway | None = None) -> DetectResult:
    """One tick of detection (every part not busy elsewhere). Raises errors.CloudError after
    marking the cloud unreachable; what was stored before the failure stays."""
    tick = _Tick(gateway)
    now = timezone.now()
    # While Cinder's notifications flow, they carry the transitional snapshots' changes: no
    # status listings, only the recent one as the safety net.
    tick.result.events = listen.events_flow()
    if tick.result.events:
        tick.listening_since = listen.listening_since()
    statuses = [] if tick.result.events else _statuses_to_list(DetectState.get(), now)
    try:
        _part(tick, "detect:recent", lambda lease: _recent(tick, lease))
        for status in statuses:
            _part(
                tick,
                f"detect:status:{status}",
                lambda lease, status=status: _status(tick, lease, status),
            )
        # Last and on a lease of its own: a walk deep into a large cloud for a snapshot deleted
        # between two ticks never holds up the next ticks' listings.
        if tick.count is not None:
            _part(tick, "detect:count", lambda lease: _reconcile_count(tick, lease, tick.count))
    except errors.CloudError as exc:
        cloud_failed(exc)
        raise
    if tick.result.calls:
        cloud_answered()
    if tick.result.unannounced:
        listen.note_missed()  # the safety net caught what the events did not bring
    tick.result.stuck = mirror.flag_stuck_rows(timezone.now())
    return tick.result


def check_snapshot(snapshot_id: str, *, gateway: Gateway | None = None) -> DetectResult:
    """An action just changed this snapshot: read it now, unless the action's own answer is
    fresh and transitional (then the next tick's status listing follows it at no extra cost)."""
    tick = _Tick(gateway)
    row = Snapshot.objects.filter(pk=snapshot_id).first()
    fresh = row is not None and timezone.now() - row.last_seen < timedelta(seconds=JUST_SEEN)
    if fresh and row.is_transitional:
        return tick.result
    try:
        _get(tick, snapshot_id)
    except errors.CloudError as exc:
        cloud_failed(exc)
        raise
    cloud_answered()
    return tick.result


def claim_detect_tick(*, sent_at: datetime | None = None) -> bool:
    """Whether this beat's detect tick runs: one every DETECT_INTERVAL, and while Cinder's
    notifications flow (they carry the changes; this is the safety net) one every
    DETECT_EVENTS_INTERVAL."""
    if listen.events_flow():
        interval = max(settings.DETECT_INTERVAL, settings.DETECT_EVENTS_INTERVAL)
        return claim_tick("detect-events", interval, sent_at=sent_at)
    return claim_tick("detect", settings.DETECT_INTERVAL, sent_at=sent_at)


def claim_tick(name: str, interval: float, *, sent_at: datetime | None = None) -> bool:
    """Whether this call is the first to run tick `name` for the period of `interval` seconds
    its beat sent it in (two beats, or a beat and a redelivered copy, run it once). The time
    the beat sent it, not the time a worker got to it: a tick that waited in the queue does not
    fall into its successor's period and push it out."""
    at = sent_at or timezone.now()
    return locks.claim_period(name, int(at.timestamp() // max(interval, 0.001)))
