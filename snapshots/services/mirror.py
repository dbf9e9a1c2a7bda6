"""Making the mirror agree with Cinder, one snapshot at a time.

Sync and track (services/sync.py) and the user actions (services/snapshots.py) all go through
`apply()` and `mark_gone()`, so a status change is recorded once, with its source, whoever saw it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from snapshots.choices import STUCK_CANDIDATES, TRANSITIONAL
from snapshots.cloud.dto import SnapshotData
from snapshots.models import Snapshot, StatusChange

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
FIRST_CHECK = 2.0  # seconds before the first re-check of a transitional snapshot


def cinder_values(data: SnapshotData) -> dict:
    return {name: getattr(data, name) for name in CINDER_FIELDS}


def schedule(row: Snapshot, now: datetime, *, status_changed: bool) -> None:
    """Set when the worker looks at this snapshot next (None: never, it is settled)."""
    if row.status in TRANSITIONAL and row.deleted_at is None:
        interval = FIRST_CHECK if status_changed or not row.check_interval else row.check_interval
        row.check_interval = interval
        row.next_check_at = now + timedelta(seconds=interval)
    else:
        row.check_interval = 0
        row.next_check_at = None


def flag_stuck(row: Snapshot, now: datetime) -> None:
    if (
        row.status in STUCK_CANDIDATES
        and row.deleted_at is None
        and now - row.status_since >= settings.STUCK_AFTER
    ):
        row.stuck_since = row.stuck_since or now
    else:
        row.stuck_since = None


@transaction.atomic
def apply(
    data: SnapshotData,
    *,
    source: str,
    now: datetime | None = None,
    volume_name: str | None = None,
) -> tuple[Snapshot, bool]:
    """Store Cinder's view of one snapshot. Returns (row, whether anything changed)."""
    now = now or timezone.now()
    values = cinder_values(data)
    row = Snapshot.objects.select_for_update().filter(pk=data.id).first()
    if row is None:
        row = Snapshot(id=data.id, first_seen=now, last_seen=now, status_since=now, **values)
        if volume_name is not None:
            row.volume_name = volume_name
        schedule(row, now, status_changed=True)
        flag_stuck(row, now)
        row.save(force_insert=True)
        StatusChange.objects.create(
            snapshot=row,
            project_id=row.project_id,
            from_status="",
            to_status=row.status,
            progress=row.progress,
            observed_at=now,
            source=source,
        )
        return row, True

    old_status = row.status
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if row.deleted_at is not None:
        changed.append("deleted_at")
        row.deleted_at = None
    if volume_name is not None and volume_name != row.volume_name:
        changed.append("volume_name")
        row.volume_name = volume_name
    for name in changed:
        if name in values:
            setattr(row, name, values[name])
    status_changed = row.status != old_status
    if status_changed:
        row.status_since = now
        StatusChange.objects.create(
            snapshot=row,
            project_id=row.project_id,
            from_status=old_status,
            to_status=row.status,
            progress=row.progress,
            observed_at=now,
            source=source,
        )
    row.last_seen = now
    schedule(row, now, status_changed=status_changed)
    flag_stuck(row, now)
    update_fields = [*changed, "last_seen", "next_check_at", "check_interval", "stuck_since"]
    if status_changed:
        update_fields.append("status_since")
    if changed:
        row.version = F("version") + 1
        update_fields.append("version")
    row.save(update_fields=sorted(set(update_fields)))
    if changed:
        row.refresh_from_db(fields=["version"])
    return row, bool(changed)


@transaction.atomic
def mark_gone(snapshot_id: str, *, source: str, now: datetime | None = None) -> bool:
    """Cinder no longer has this snapshot: keep the row, with the time it went."""
    now = now or timezone.now()
    row = Snapshot.objects.select_for_update().filter(pk=snapshot_id, deleted_at=None).first()
    if row is None:
        return False
    StatusChange.objects.create(
        snapshot=row,
        project_id=row.project_id,
        from_status=row.status,
        to_status="deleted",
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
    return True
