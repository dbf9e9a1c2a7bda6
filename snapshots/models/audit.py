"""The two histories. Both are append-only: rows are inserted, never updated or deleted."""

from django.db import models
from django.utils import timezone

from snapshots.choices import ChangeSource, Outcome


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a history row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be updated")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")

    def _raw_delete(self, using):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")


class StatusChange(AppendOnlyModel):
    snapshot = models.ForeignKey(
        "snapshots.Snapshot", on_delete=models.PROTECT, related_name="status_changes"
    )
    project_id = models.CharField(max_length=64, db_index=True)
    from_status = models.CharField(max_length=32, blank=True)  # blank: first sighting
    to_status = models.CharField(max_length=32, db_index=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    observed_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=16, choices=ChangeSource.choices)

    class Meta:
        ordering = ["-observed_at", "-id"]
        indexes = [models.Index(fields=["snapshot", "observed_at"], name="change_snapshot_time")]

    def __str__(self) -> str:
        return f"{self.snapshot_id}: {self.from_status or '-'} -> {self.to_status}"


class AuditEvent(AppendOnlyModel):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=255, db_index=True)
    project_id = models.CharField(max_length=64, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    target_name = models.CharField(max_length=255, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    client_addr = models.GenericIPAddressField(null=True, blank=True)
    # Tamper evidence: each event carries the hash of the one before it.
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.outcome}"
