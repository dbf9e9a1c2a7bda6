"""Making the mirror agree with Cinder.

Sync and track (services/sync.py) and the user actions (services/snapshots.py) all go through this
module, so a status change is recorded once, with its source, whoever saw it:

- `apply()` / `mark_gone()`: one snapshot (the actions, track's rare single reads);
- `apply_page()` / `mark_vanished()`: a page of Cinder's list at a time, in bulk (sync);
- `apply_volume_page()`: the volume mirror (the sweep, which also marks gone volumes);
- `flag_stuck_rows()`: the stuck flag, by time alone (sync and track).

Every write that changes what a page shows bumps the row's `version`, which the live table polls.

Observations carry the time they were made (`now`: when the request to Cinder was sent). With
`if_newer=True` (the workers) an observation older than the row's last one is ignored, so a sync
page read before a user's delete cannot put the snapshot back to `available` for a moment.
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from snapshots import memo
from snapshots.choices import STUCK_CANDIDATES, TRANSITIONAL
from snapshots.cloud.dto import SnapshotData, VolumeData
from snapshots.models import Snapshot, StatusChange, Volume

# Fields copied from Cinder's answer as they are.
CINDER_FIELDS = (
    "project_id",
    "name",
    "description",
    "status",
    "progress",
    "size",
    "volume_id",
    "user_id",
    "group_snapshot_id",
    "consumes_quota",
    "metadata",
    "created_at",
    "updated_at",
)
VOLUME_FIELDS = (
    "project_id",
    "name",
    "size",
    "status",
    "availability_zone",
    "volume_type",
    "bootable",
    "attachments",
    "created_at",
)
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
FIRST_CHECK = 2.0  # seconds before the first re-check of a transitional snapshot
MAX_CHECK = 300.0  # the back-off stops growing here (5 minutes)
GONE = "deleted"  # to_status of the StatusChange written when a snapshot leaves Cinder
BATCH = 500  # rows per bulk statement


def chunks(ids, size: int = BATCH) -> Iterator[list]:
    """`ids` cut in lists of `size`: IN clauses stay under every database's parameter limit."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@dataclass
class _PageWrites:
    """A page's rows sorted into what to insert, what to update (and which fields) and what is
    only seen again; `write` stores them in a few bulk statements, whatever the page size."""

    new_rows: list = field(default_factory=list)
    changed_rows: list = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    seen_ids: list[str] = field(default_factory=list)

    def keep(self, row: Snapshot | Volume, fields: set[str]) -> None:
        """A row already stored: update the `fields` that changed, else only mark it seen."""
        if fields:
            self.changed_rows.append(row)
            self.changed_fields |= fields | {"last_seen"}
        else:
            self.seen_ids.append(row.pk)

    def write(
        self, model: type[Snapshot] | type[Volume], *, now: datetime, touch_unchanged: bool = True
    ) -> None:
        insert_rows(model, self.new_rows)
        if self.changed_rows:
            model.objects.bulk_update(
                self.changed_rows, sorted(self.changed_fields), batch_size=BATCH
            )
        for ids in chunks(self.seen_ids if touch_unchanged else []):
            model.objects.filter(pk__in=ids).update(last_seen=now)


def insert_rows(model: type[models.Model], rows: list) -> None:
    """Insert new rows in bulk. On PostgreSQL through COPY: a first sync of a large cloud
    inserts a page of a thousand snapshots (and their first StatusChange) per call, and COPY
    costs a fraction of a multi-row INSERT's parameter handling on both sides."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=BATCH)
        return
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and getattr(rows[0], f.attname) is None)  # an AutoField's id
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    # The values are the ones our own code put on the rows, already of each column's Python
    # type, so only JSON needs Django's adaptation (per field and row, the generic path costs
    # more than the rest of the page's insert).
    values_of = operator.attrgetter(*(f.attname for f in fields))
    json_at = [(i, f) for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    db = connections[model.objects.db]
    # The driver's own cursor does the COPY: its errors are turned into Django's here, so a
    # key another worker inserted first is an IntegrityError like any other insert's.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            values = list(values_of(row))
            for i, field in json_at:
                values[i] = field.get_db_prep_save(values[i], db)
            copy.write_row(values)


def cinder_values(data: SnapshotData) -> dict:
    return {name: getattr(data, name) for name in CINDER_FIELDS}


def differs(row: Snapshot, data: SnapshotData) -> bool:
    """Whether Cinder's answer says anything the row does not (a cheap test before `apply`)."""
    return row.deleted_at is not None or any(
        getattr(row, name) != getattr(data, name) for name in CINDER_FIELDS
    )


def schedule(row: Snapshot, now: datetime, *, status_changed: bool) -> None:
    """Set when the worker looks at this snapshot next (None: never, it is settled).

    A new transitional status is checked after FIRST_CHECK seconds; an unchanged one keeps its
    plan (track stretches it with `next_interval`).
    """
    if row.status in TRANSITIONAL and row.deleted_at is None:
        if status_changed or not row.check_interval or row.next_check_at is None:
            row.check_interval = FIRST_CHECK
            row.next_check_at = now + timedelta(seconds=FIRST_CHECK)
    else:
        row.check_interval = 0
        row.next_check_at = None


def next_interval(interval: float) -> float:
    """Checked and unchanged: wait twice as long next time (2 s, 4 s, ... capped at 5 min)."""
    return min(MAX_CHECK, max(FIRST_CHECK, (interval or FIRST_CHECK / 2) * 2))


def flag_stuck(row: Snapshot, now: datetime) -> None:
    if (
        row.status in STUCK_CANDIDATES
        and row.deleted_at is None
        and now - row.status_since >= settings.STUCK_AFTER
    ):
        # When it became stuck (entered the status + STUCK_AFTER), not when we noticed: a
        # snapshot found creating for a day has been stuck for most of that day.
        row.stuck_since = row.stuck_since or min(now, row.status_since + settings.STUCK_AFTER)
    else:
        row.stuck_since = None


def _first_status_since(data: SnapshotData, now: datetime) -> datetime:
    """When a snapshot first seen by sync entered its status: Cinder's last change, at the latest
    now. A snapshot found `creating` with a day-old timestamp is stuck at once, not 30 min later."""
    since = data.updated_at or data.created_at or now
    return min(since, now)


def _change(row: Snapshot, old: str, now: datetime, source: str) -> StatusChange:
    return StatusChange(
        snapshot=row,
        project_id=row.project_id,
        from_status=old,
        to_status=row.status,
        progress=row.progress,
        observed_at=now,
        source=source,
    )


def _is_stale(row: Snapshot, now: datetime) -> bool:
    """Someone saw (or removed) this snapshot after `now`: the older observation loses."""
    return row.last_seen > now or (row.deleted_at is not None and row.deleted_at > now)


def _names(project_id: str, volume_id: str) -> tuple[str, str]:
    """The project's and volume's names as the mirror knows them (for a row first seen alone)."""
    from snapshots.models import Project

    project = Project.objects.filter(pk=project_id).values_list("name", flat=True).first()
    volume = Volume.objects.filter(pk=volume_id).values_list("name", flat=True).first()
    return project or "", volume or ""


def _update_row(
    row: Snapshot,
    values: dict,
    *,
    now: datetime,
    source: str,
    extra: dict,
    changes: list[StatusChange],
) -> set[str]:
    """Copy `values` (Cinder's) and `extra` (names) onto `row`; return the fields that changed.

    Appends the StatusChange to `changes` when the status moved (or the snapshot came back)."""
    old_status = GONE if row.deleted_at is not None else row.status
    changed = {name for name, value in values.items() if getattr(row, name) != value}
    changed |= {name for name, value in extra.items() if getattr(row, name) != value}
    for name in changed:
        setattr(row, name, values[name] if name in values else extra[name])
    if row.deleted_at is not None:
        row.deleted_at = None
        changed.add("deleted_at")
    status_changed = row.status != old_status
    if status_changed:
        row.status_since = now
        changed.add("status_since")
        changes.append(_change(row, old_status, now, source))
    before = (row.next_check_at, row.check_interval, row.stuck_since)
    schedule(row, now, status_changed=status_changed)
    flag_stuck(row, now)
    if (row.next_check_at, row.check_interval) != before[:2]:
        changed |= {"next_check_at", "check_interval"}
    if row.stuck_since != before[2]:
        changed.add("stuck_since")
    row.last_seen = now
    return changed


PAGE_WRITE_LOCK = 0x6D6972726F72  # pg_advisory_xact_lock key of page writes ("mirror")


ANALYZE_AFTER_NEW = 1000  # new rows in one pass that make the planner's figures worth renewing


def refresh_statistics(new_rows: int) -> None:
    """After a pass that added many rows (a first sync), PostgreSQL re-reads the mirror's shape
    now instead of at autovacuum's next round: until then it plans every list page as if the
    table were empty (a bitmap scan and a sort of every row instead of an index walk)."""
    if connection.vendor == "postgresql" and new_rows >= ANALYZE_AFTER_NEW:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE snapshots_snapshot, snapshots_statuschange")


def refresh_statistics_if_grown() -> None:
    """The same after a sweep round (its rows were stored over many ticks): when the mirror now
    holds many more rows than PostgreSQL's planner last counted."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.n_live_tup FROM pg_class c JOIN pg_stat_user_tables s "
            "ON s.relid = c.oid WHERE c.relname = 'snapshots_snapshot'"
        )
        found = cursor.fetchone()
    if found and found[1] - max(found[0], 0) >= ANALYZE_AFTER_NEW:
        refresh_statistics(ANALYZE_AFTER_NEW)


def lock_page_writes() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PAGE_WRITE_LOCK])


# --- one snapshot --------------------------------------------------------------------------
@transaction.atomic
def apply(
    data: SnapshotData,
    *,
    source: str,
    now: datetime | None = None,
    volume_name: str | None = None,
    if_newer: bool = False,
    discovered: bool = False,
) -> tuple[Snapshot, bool]:
    """Store Cinder's view of one snapshot. Returns (row, whether anything changed).

    `if_newer`: ignore the observation when the row was seen (or marked gone) after `now`.
    `discovered`: a snapshot a listing found (not one an action made): if it is new to the
    mirror, it has been in its status since Cinder last changed it, not since now."""
    now = now or timezone.now()
    values = cinder_values(data)
    row = Snapshot.objects.select_for_update().filter(pk=data.id).first()
    if row is None:
        lock_page_writes()  # a new row: take turns with page writes that may insert it too
        row = Snapshot.objects.filter(pk=data.id).first()
    if row is None:
        project_name, known_volume = _names(data.project_id, data.volume_id)
        row = Snapshot(
            id=data.id,
            first_seen=now,
            last_seen=now,
            status_since=_first_status_since(data, now) if discovered else now,
            project_name=project_name,
            volume_name=known_volume if volume_name is None else volume_name,
            **values,
        )
        schedule(row, now, status_changed=True)
        flag_stuck(row, now)
        row.save(force_insert=True)
        _change(row, "", now, source).save()
        memo.changed()
        return row, True

    if if_newer and _is_stale(row, now):
        return row, False
    extra = {} if volume_name is None else {"volume_name": volume_name}
    changes: list[StatusChange] = []
    changed = _update_row(row, values, now=now, source=source, extra=extra, changes=changes)
    visible = changed - {"next_check_at", "check_interval"}
    fields = {*changed, "last_seen"}
    if visible:
        row.version = F("version") + 1
        fields.add("version")
    row.save(update_fields=sorted(fields))
    for change in changes:
        change.save()
    if visible:
        row.refresh_from_db(fields=["version"])
        memo.changed()
    return row, bool(visible)


@transaction.atomic
def mark_gone(
    snapshot_id: str, *, source: str, now: datetime | None = None, if_newer: bool = False
) -> bool:
    """Cinder no longer has this snapshot: keep the row, with the time it went."""
    now = now or timezone.now()
    row = Snapshot.objects.select_for_update().filter(pk=snapshot_id, deleted_at=None).first()
    if row is None or (if_newer and row.last_seen > now):
        return False
    StatusChange.objects.create(
        snapshot=row,
        project_id=row.project_id,
        from_status=row.status,
        to_status=GONE,
        observed_at=now,
        source=source,
    )
    Snapshot.objects.filter(pk=row.pk).update(
        deleted_at=now,
        next_check_at=None,
        check_interval=0,
        stuck_since=None,
        version=F("version") + 1,
    )
    memo.changed()
    return True


# --- a page at a time (sync) ---------------------------------------------------------------
@dataclass
class PageResult:
    new: int = 0
    changed: int = 0
    unchanged: int = 0


def _stored_again_on_conflict(store: Callable[P, R]) -> Callable[P, R]:
    """Detection and the sweep may meet on a snapshot neither had yet: the one that inserts
    second gets an IntegrityError, and its page is then stored once more, now finding the
    other's row."""

    @functools.wraps(store)
    def again(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return store(*args, **kwargs)
        except IntegrityError:
            log.info(
                "a page's new snapshot was stored meanwhile by another worker; storing it again"
            )
            return store(*args, **kwargs)

    return again


@_stored_again_on_conflict
@transaction.atomic
def apply_page(
    items: list[SnapshotData],
    *,
    source: str,
    now: datetime,
    volume_names: dict[str, str],
    project_names: dict[str, str],
    touch_unchanged: bool = True,
) -> PageResult:
    """Store one page of Cinder's list: a few bulk statements, whatever the page size.

    Page writes take the mirror's write lock first (PostgreSQL: a transaction advisory lock;
    SQLite already queues writers), so a sweep and a detection tick storing the same new
    snapshots take turns instead of both inserting them.

    `now` is when the page was requested; rows observed after that (by track or an action) keep
    what they have. `volume_names`/`project_names` map ids to the names to show.
    `touch_unchanged=False` (the sweep, which proves absence by key ranges, not by `last_seen`):
    rows that did not change are not written at all."""
    lock_page_writes()
    result = PageResult()
    by_id = {data.id: data for data in items}
    rows = {
        row.id: row
        for ids in chunks(by_id)
        for row in Snapshot.objects.select_for_update().filter(pk__in=ids)
    }
    page = _PageWrites()
    changes: list[StatusChange] = []
    for snapshot_id, data in by_id.items():
        values = cinder_values(data)
        names = {
            "volume_name": volume_names.get(data.volume_id, ""),
            "project_name": project_names.get(data.project_id) or data.project_id,
        }
        row = rows.get(snapshot_id)
        if row is None:
            row = Snapshot(
                id=snapshot_id,
                first_seen=now,
                last_seen=now,
                status_since=_first_status_since(data, now),
                **values,
                **names,
            )
            schedule(row, now, status_changed=True)
            flag_stuck(row, now)
            page.new_rows.append(row)
            changes.append(_change(row, "", now, source))
            continue
        if _is_stale(row, now):
            continue
        if not names["volume_name"]:
            names.pop("volume_name")  # an unknown volume: keep the name we had
        fields = _update_row(row, values, now=now, source=source, extra=names, changes=changes)
        if fields - {"next_check_at", "check_interval"}:
            row.version += 1
            fields.add("version")
            result.changed += 1
        page.keep(row, fields)
    page.write(Snapshot, now=now, touch_unchanged=touch_unchanged)
    insert_rows(StatusChange, changes)
    if page.new_rows or result.changed:
        memo.changed()
    result.new = len(page.new_rows)
    result.unchanged = len(by_id) - result.new - result.changed
    return result


def mark_gone_many(ids: list[str], *, source: str, now: datetime) -> int:
    """These snapshots were proven absent by a listing requested at `now`: mark the live ones
    not seen since then gone, in batches. Returns how many were marked."""
    gone = 0
    for batch in chunks(ids):
        with transaction.atomic():
            gone += _mark_rows_gone(batch, source=source, now=now, last_seen__lte=now)
    return gone


def _mark_rows_gone(ids: list[str], *, source: str, now: datetime, **not_seen: datetime) -> int:
    """Lock the live rows among `ids` still not seen (`not_seen`: a last_seen lookup) and mark
    them gone, each with its status change. Returns how many."""
    rows = list(
        Snapshot.objects.select_for_update()
        .filter(pk__in=ids, deleted_at=None, **not_seen)
        .only("id", "project_id", "status")
    )
    if rows:
        memo.changed()
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                snapshot_id=row.id,
                project_id=row.project_id,
                from_status=row.status,
                to_status=GONE,
                observed_at=now,
                source=source,
            )
            for row in rows
        ],
        batch_size=BATCH,
    )
    Snapshot.objects.filter(pk__in=[row.id for row in rows]).update(
        deleted_at=now,
        next_check_at=None,
        check_interval=0,
        stuck_since=None,
        version=F("version") + 1,
    )
    return len(rows)


def mark_vanished(*, seen_since: datetime, source: str, now: datetime) -> int:
    """Every live row not seen since `seen_since` left Cinder. A batch at a time, so memory stays
    flat: rows are picked by id in batches, never loaded all at once."""
    gone = 0
    while True:
        with transaction.atomic():
            ids = list(
                Snapshot.objects.live()
                .filter(last_seen__lt=seen_since)
                .order_by()
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                return gone
            gone += _mark_rows_gone(ids, source=source, now=now, last_seen__lt=seen_since)


def flag_stuck_rows(now: datetime | None = None) -> int:
    """Flag rows sitting in creating/deleting/error_deleting longer than STUCK_AFTER, and unflag
    rows that moved on. Two UPDATEs, whatever the size of the mirror. Returns rows flagged."""
    now = now or timezone.now()
    flagged = (
        Snapshot.objects.live()
        .filter(
            status__in=STUCK_CANDIDATES,
            stuck_since__isnull=True,
            status_since__lte=now - settings.STUCK_AFTER,
        )
        .update(stuck_since=F("status_since") + settings.STUCK_AFTER, version=F("version") + 1)
    )
    unflagged = (
        Snapshot.objects.filter(stuck_since__isnull=False)
        .filter(Q(deleted_at__isnull=False) | ~Q(status__in=STUCK_CANDIDATES))
        .update(stuck_since=None, version=F("version") + 1)
    )
    if flagged or unflagged:
        memo.changed()
    return flagged


# --- volumes (sync) ------------------------------------------------------------------------
def volume_values(data: VolumeData) -> dict:
    values = {name: getattr(data, name) for name in VOLUME_FIELDS}
    values["snapshot_id"] = data.source_snapshot_id
    return values


@transaction.atomic
def apply_volume_page(
    items: list[VolumeData], *, now: datetime, touch_unchanged: bool = True
) -> int:
    """Upsert one page of volumes in bulk; returns how many were new or changed.
    `touch_unchanged=False` (the sweep, which proves absence by key ranges): unchanged rows are
    not written at all."""
    by_id = {data.id: data for data in items}
    rows = {row.id: row for ids in chunks(by_id) for row in Volume.objects.filter(pk__in=ids)}
    page = _PageWrites()
    for volume_id, data in by_id.items():
        values = volume_values(data)
        row = rows.get(volume_id)
        if row is None:
            page.new_rows.append(Volume(id=volume_id, first_seen=now, last_seen=now, **values))
            continue
        fields = {name for name, value in values.items() if getattr(row, name) != value}
        for name in fields:
            setattr(row, name, values[name])
        if row.deleted_at is not None:
            row.deleted_at = None
            fields.add("deleted_at")
        if fields:
            row.last_seen = now
        page.keep(row, fields)
    page.write(Volume, now=now, touch_unchanged=touch_unchanged)
    if page.new_rows or page.changed_rows:
        memo.changed()
    return len(page.new_rows) + len(page.changed_rows)
