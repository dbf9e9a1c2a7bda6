"""The two histories. Both are append-only: rows are inserted, never updated or deleted.

Two guards: the ORM refuses (AppendOnlyModel), and on PostgreSQL a trigger refuses UPDATE and
DELETE on both tables (migration 0004) unless the transaction has lifted it with
`privileged_history_writes()`, which only prune_history() does. Neither stops someone who
owns the database; the audit chain's keyed hashes (services/audit.py) make their edits visible.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models, transaction
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


# The transaction-local PostgreSQL setting the history trigger checks.
HISTORY_WRITE_SETTING = "snapshots.history_write"


@contextmanager
def privileged_history_writes() -> Iterator[None]:
    """Lift the database guard for the rest of the current transaction block (PostgreSQL).

    Only services/retention.py calls this. The setting is transaction-local: it ends with the
    block's transaction whatever happens, and a connection reused later starts guarded again.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [HISTORY_WRITE_SETTING])
        try:
            yield
        finally:
            if connection.vendor == "postgresql" and not connection.needs_rollback:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', true)", [HISTORY_WRITE_SETTING])


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
    # Tamper evidence: each event carries the hash of the one before it. `hash` is an HMAC
    # with the key named by `key_id` (settings.AUDIT_HMAC_KEYS); blank key_id: an event written
    # before the chain was keyed (plain sha256).
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.outcome}"
