"""What the snapshot workflows mirror besides snapshots and volumes: Cinder's user messages (why
a snapshot or volume failed) and each project's quota usage. The workers fill both; pages read
them and never ask Cinder.
"""

from django.db import models
from django.utils import timezone


class UserMessage(models.Model):
    """One of Cinder's user messages (`GET /messages`), keyed to the resource it is about."""

    id = models.CharField(primary_key=True, max_length=64)
    project_id = models.CharField(max_length=64, blank=True)
    resource_type = models.CharField(max_length=64, blank=True)
    resource_uuid = models.CharField(max_length=64, db_index=True, blank=True)
    event_id = models.CharField(max_length=128, blank=True)
    user_message = models.TextField(blank=True)
    message_level = models.CharField(max_length=32, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return self.user_message[:80]


class ProjectQuota(models.Model):
    """A project's block-storage quota and usage as Cinder last reported them (-1: unlimited)."""

    project_id = models.CharField(primary_key=True, max_length=64)
    snapshots_limit = models.IntegerField(default=-1)
    snapshots_used = models.IntegerField(default=0)
    gigabytes_limit = models.IntegerField(default=-1)
    gigabytes_used = models.IntegerField(default=0)
    volumes_limit = models.IntegerField(default=-1)
    volumes_used = models.IntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.project_id

    @staticmethod
    def left(limit: int, used: int) -> int | None:
        """What is left under a limit; None when unlimited."""
        return None if limit < 0 else max(0, limit - used)

    @property
    def snapshots_left(self) -> int | None:
        return self.left(self.snapshots_limit, self.snapshots_used)

    @property
    def gigabytes_left(self) -> int | None:
        return self.left(self.gigabytes_limit, self.gigabytes_used)

    @property
    def volumes_left(self) -> int | None:
        return self.left(self.volumes_limit, self.volumes_used)


class ManageableSnapshot(models.Model):
    """A snapshot a backend holds (`GET /manageable_snapshots?host=`), as last read by an admin.

    Read only on request (a POST of the Manageable page): the listing asks the backend's driver,
    which is too costly for a beat.
    """

    host = models.CharField(max_length=255, db_index=True)
    name = models.CharField(max_length=255)
    reference = models.JSONField(default=dict)
    size = models.PositiveIntegerField(default=0)
    safe_to_manage = models.BooleanField(default=False)
    reason_not_safe = models.CharField(max_length=255, blank=True)
    cinder_id = models.CharField(max_length=64, blank=True)
    source_volume_id = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["host", "name"]
        constraints = [
            models.UniqueConstraint(fields=["host", "name"], name="manageable_host_name"),
        ]

    def __str__(self) -> str:
        return f"{self.host}: {self.name}"
