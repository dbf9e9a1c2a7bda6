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
    """An idempotency key: the same form submitted twice performs the action once.

    The key is bound to who used it, for what and on what (`subject`: the snapshot, or the
    volume of a create); the same key for anything else is refused. An attempt whose outcome is
    unknown stays claimed until the worker has found out what Cinder did (`state`).
    """

    RUNNING = "running"
    DONE = "done"
    UNKNOWN = "unknown"  # Cinder did not answer in time; the worker is checking
    SUCCEEDED = "succeeded"  # found out afterwards: Cinder did it
    NOT_DONE = "not_done"  # found out afterwards: Cinder did not do it

    key = models.CharField(primary_key=True, max_length=64)
    actor_id = models.CharField(max_length=64)
    action = models.CharField(max_length=64)
    subject = models.CharField(max_length=64, blank=True)
    project_id = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, default=RUNNING)
    # The audit event of the attempt, which a later "reconciled" event points back to.
    event_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # What was asked of Cinder, for the worker that finds out whether it happened.
    request = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set once the action has run: a repeated submit shows this result instead of acting again.
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.action} {self.key}"

    @property
    def settled(self) -> bool:
        return self.state in (self.DONE, self.SUCCEEDED, self.NOT_DONE)
