"""The mirror: what the dashboard knows of the cloud's projects, volumes and snapshots.

Pages read these tables, never Cinder. The workers (services/sync.py) keep them true.
"""

from django.db import models
from django.utils import timezone

from snapshots.choices import TRANSITIONAL, Status


class Project(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=255, blank=True)
    domain_id = models.CharField(max_length=64, blank=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.id


class Volume(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    project_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=32, blank=True)
    availability_zone = models.CharField(max_length=255, blank=True)
    volume_type = models.CharField(max_length=255, blank=True)
    bootable = models.BooleanField(default=False)
    attachments = models.PositiveIntegerField(default=0)
    # The snapshot this volume was created from ("" when none): delete confirmations list these.
    snapshot_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or self.id


class SnapshotQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def transitional(self):
        return self.live().filter(status__in=TRANSITIONAL)


class Snapshot(models.Model):
    # Cinder's own fields
    id = models.CharField(primary_key=True, max_length=64)
    project_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, db_index=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0, db_index=True)
    volume_id = models.CharField(max_length=64, db_index=True)
    user_id = models.CharField(max_length=64, blank=True)
    group_snapshot_id = models.CharField(max_length=64, blank=True)
    consumes_quota = models.BooleanField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # What the dashboard adds
    volume_name = models.CharField(max_length=255, blank=True)
    project_name = models.CharField(max_length=255, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    status_since = models.DateTimeField(default=timezone.now)
    stuck_since = models.DateTimeField(null=True, blank=True, db_index=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    check_interval = models.FloatField(default=0)
    # Grows on every change; the live table asks for rows whose version grew.
    version = models.PositiveBigIntegerField(default=1, db_index=True)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(
                fields=["project_id", "deleted_at", "-created_at"], name="snap_project_created"
            ),
            models.Index(fields=["deleted_at", "status"], name="snap_live_status"),
            # The list's own orders over live rows (newest first, by size; ties by id the same
            # way), which SQLite walks and stops after a page. PostgreSQL does not take a
            # leading `deleted_at IS NULL` as fixed when ordering, so migration 0011 gives it
            # partial indexes (live rows only) in the same orders.
            models.Index(fields=["deleted_at", "-created_at", "-id"], name="snap_live_newest"),
            models.Index(fields=["deleted_at", "size", "id"], name="snap_live_size"),
            # The list sorted by name: PostgreSQL walks this instead of sorting every row.
            # (SQLite, which has no statistics to tell it that `deleted_at IS NULL` keeps nearly
            # every row, gets its own live-row indexes by name, by volume and per project by
            # size from migration 0013, outside this list.)
            models.Index(fields=["name", "id"], name="snap_name"),
            # /metrics groups live rows by project and status, summing stuck and size: this
            # index covers the query, read in order.
            models.Index(
                fields=["deleted_at", "project_id", "status", "stuck_since", "size"],
                name="snap_metrics",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.id

    @property
    def is_transitional(self) -> bool:
        return self.status in TRANSITIONAL and self.deleted_at is None

    @property
    def is_stuck(self) -> bool:
        return self.stuck_since is not None and self.deleted_at is None
