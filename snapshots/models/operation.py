"""Operational state: the cloud's reachability, worker locks, and idempotency keys."""

from django.db import models
from django.utils import timezone


class CloudState(models.Model):
    """One row: what the workers last saw of the cloud. The UI's outage banner reads it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    reachable = models.BooleanField(default=True)
    last_sync_started_at = models.DateTimeField(null=True, blank=True)
    last_sync_ok_at = models.DateTimeField(null=True, blank=True)
    last_sync_summary = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "reachable" if self.reachable else "unreachable"

    @classmethod
    def get(cls) -> "CloudState":
        obj, _ = cls.objects.get_or_create(id=1)
        return obj


class WorkerLock(models.Model):
    """A named lease in the database, so two workers on two machines never sync at once."""

    name = models.CharField(primary_key=True, max_length=64)
    owner = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner or 'nobody'}"


class Operation(models.Model):
    """An idempotency key: the same form submitted twice performs the action once."""

    key = models.CharField(primary_key=True, max_length=64)
    actor_id = models.CharField(max_length=64)
    action = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set once the action has run: a repeated submit shows this result instead of acting again.
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.action} {self.key}"
