"""Retention: the one privileged code path that removes old history.

Status changes and audit events are append-only everywhere else (AppendOnlyModel refuses
update and delete). `prune_history()` is the exception, run by `manage.py prune_history`:

- status changes observed before the cutoff are removed;
- audit events created before the cutoff are removed as a contiguous run of the oldest rows
  (never the newest event, so the chain keeps its head), and the prune records the first kept
  event and its `prev_hash` as the new anchor, so `verify_audit` still accepts the chain;
- snapshots that left Cinder before the cutoff, have no history left and that no kept audit event
  names, are removed from the mirror (nothing would link to them any more).

Everything happens in one transaction holding the audit chain's lock, and the prune itself is
recorded as an audit event. On PostgreSQL a trigger refuses UPDATE and DELETE on the history
tables; the prune lifts it for its own transaction only (`privileged_history_writes()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from snapshots import memo
from snapshots.choices import Outcome
from snapshots.models import AuditEvent, Snapshot, StatusChange
from snapshots.models.audit import privileged_history_writes
from snapshots.services import audit


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    status_changes: int
    audit_events: int
    snapshots: int
    anchor_id: int | None
    event_id: int | None  # the prune's own audit event (None for a dry run)


def _privileged_delete(queryset: models.QuerySet) -> int:
    """Delete rows past the append-only guard. Only prune_history() may call this."""
    return models.QuerySet._raw_delete(queryset, queryset.db)


def _anchor(cutoff: datetime) -> AuditEvent | None:
    """The oldest audit event to keep: the first one at or after the cutoff, else the newest."""
    first_kept = AuditEvent.objects.filter(created_at__gte=cutoff).order_by("id").first()
    return first_kept or AuditEvent.objects.order_by("-id").first()


def prune_history(
    *,
    older_than_days: int,
    now: datetime | None = None,
    actor_name: str = "",
    dry_run: bool = False,
) -> PruneResult:
    """Remove history older than `older_than_days` days; audited, and keeps the chain valid."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    now = now or timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    with transaction.atomic():
        audit.lock_chain()
        anchor = _anchor(cutoff)
        events = AuditEvent.objects.none()
        if anchor is not None:
            events = AuditEvent.objects.filter(id__lt=anchor.id)
        changes = StatusChange.objects.filter(observed_at__lt=cutoff)
        kept_targets = AuditEvent.objects.filter(id__gte=anchor.id) if anchor else None
        gone = Snapshot.objects.filter(deleted_at__lt=cutoff).exclude(
            id__in=StatusChange.objects.filter(observed_at__gte=cutoff).values("snapshot_id")
        )
        if kept_targets is not None:
            gone = gone.exclude(id__in=kept_targets.values("target_id"))
        gone_ids = list(gone.values_list("id", flat=True))
        if dry_run:
            return PruneResult(
                cutoff, changes.count(), events.count(), len(gone_ids), anchor and anchor.id, None
            )
        with privileged_history_writes():
            n_changes = _privileged_delete(changes)
            n_events = _privileged_delete(events)
        n_snapshots = 0
        if gone_ids:
            n_snapshots, _ = Snapshot.objects.filter(id__in=gone_ids).delete()
        memo.changed()
        parameters: dict = {
            "older_than_days": older_than_days,
            "cutoff": cutoff.isoformat(),
            "status_changes_deleted": n_changes,
            "audit_events_deleted": n_events,
            "snapshots_deleted": n_snapshots,
        }
        if anchor is not None and n_events:
            parameters["anchor_id"] = anchor.id
            parameters["anchor_prev_hash"] = anchor.prev_hash
        event = audit.record(
            scope=None,
            actor_name=actor_name or audit.SYSTEM_ACTOR,
            action=audit.PRUNE_ACTION,
            outcome=Outcome.SUCCESS,
            parameters=parameters,
            message=(
                f"Removed {n_changes} status changes, {n_events} audit events and "
                f"{n_snapshots} deleted snapshots older than {older_than_days} days."
            ),
        )
    return PruneResult(
        cutoff, n_changes, n_events, n_snapshots, anchor.id if anchor else None, event.id
    )
