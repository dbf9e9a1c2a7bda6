"""The only writer of AuditEvent rows, and the hash chain that makes edits to them visible.

Every event stores `prev_hash` (the hash of the event written just before it) and `hash`
(sha256 over a canonical JSON of its own fields plus `prev_hash`). Editing, removing or
inserting a row anywhere breaks a link that `verify_chain()` (and `manage.py verify_audit`)
names. Writers are serialised by a lock row, so two processes never both extend the same head
and fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from snapshots.choices import Outcome
from snapshots.cloud.errors import CloudError, Unavailable
from snapshots.models import AuditEvent, WorkerLock
from snapshots.observability import metrics
from snapshots.permissions import Scope

SYSTEM_ACTOR = "system"
CHAIN_LOCK = "audit-chain"
# Written by services/retention.py: its parameters name the first event kept (the new anchor).
PRUNE_ACTION = "history_prune"

# The fields the hash covers, in this order. `id` is not among them (it is assigned by the
# database after the hash is computed); the order of rows is pinned by the prev_hash links.
HASHED_FIELDS = (
    "created_at",
    "actor_id",
    "actor_name",
    "project_id",
    "action",
    "target_id",
    "target_name",
    "parameters",
    "outcome",
    "status_code",
    "message",
    "request_id",
    "client_addr",
    "prev_hash",
)


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: AuditEvent) -> bytes:
    """The bytes the hash is computed over: the same whether the event is new or read back."""
    values: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if name == "created_at":
            value = _canonical_time(value)
        values[name] = value
    return json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def _json_safe(parameters: dict[str, Any] | None) -> dict[str, Any]:
    """What the JSON column will give back, so the hash matches the stored row."""
    return json.loads(json.dumps(parameters or {}, default=str))


def lock_chain() -> None:
    """Hold the chain's lock row until the surrounding transaction ends.

    PostgreSQL: a row lock every writer queues on. SQLite: select_for_update is a no-op, but the
    settings open every transaction with BEGIN IMMEDIATE, so writers already queue on the file.
    """
    WorkerLock.objects.get_or_create(name=CHAIN_LOCK, defaults={"owner": "audit chain"})
    WorkerLock.objects.select_for_update().filter(name=CHAIN_LOCK).first()


def chain_head() -> AuditEvent | None:
    return AuditEvent.objects.order_by("-id").only("id", "hash").first()


@transaction.atomic
def append(event: AuditEvent) -> AuditEvent:
    """Link `event` to the current head and insert it. Callers hold no other audit lock."""
    lock_chain()
    head = chain_head()
    event.prev_hash = head.hash if head else ""
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    metrics.audit_event_written(event.action, event.outcome)
    return event


def record(
    *,
    scope: Scope | None,
    action: str,
    outcome: str,
    target_id: str = "",
    target_name: str = "",
    project_id: str = "",
    parameters: dict[str, Any] | None = None,
    error: CloudError | None = None,
    message: str = "",
    client_addr: str | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one audit event. Never pass a token or password in `parameters`."""
    status_code = None
    request_id = ""
    if error is not None:
        status_code = error.status_code
        request_id = error.request_id
        message = message or error.message
    event = AuditEvent(
        created_at=timezone.now(),
        actor_id=scope.user_id if scope else "",
        actor_name=(actor_name or (scope.username if scope else SYSTEM_ACTOR))[:255],
        project_id=project_id or (scope.project_id if scope else ""),
        action=action,
        target_id=target_id,
        target_name=target_name[:255],
        parameters=_json_safe(parameters),
        outcome=outcome,
        status_code=status_code,
        message=message,
        request_id=request_id or "",
        client_addr=None,
    )
    # Normalised as the column stores it (IPv6 addresses are compressed), for a stable hash.
    field = AuditEvent._meta.get_field("client_addr")
    event.client_addr = field.get_prep_value(client_addr) if client_addr else None
    return append(event)


def outcome_of(error: CloudError | None) -> str:
    if error is None:
        return Outcome.SUCCESS
    if isinstance(error, Unavailable):
        return Outcome.FAILED
    return Outcome.REFUSED


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain()` found. `broken_id` is the first event that fails, if any."""

    checked: int
    broken_id: int | None = None
    reason: str = ""
    anchor_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _accepted_anchors() -> set[tuple[int, str]]:
    """(first kept event id, its prev_hash) pairs recorded by the prunes in the chain itself."""
    anchors: set[tuple[int, str]] = set()
    for params in AuditEvent.objects.filter(action=PRUNE_ACTION).values_list(
        "parameters", flat=True
    ):
        if isinstance(params, dict) and "anchor_id" in params:
            try:
                anchors.add((int(params["anchor_id"]), str(params.get("anchor_prev_hash", ""))))
            except (TypeError, ValueError):
                continue
    return anchors


def _events(batch: int) -> Iterator[AuditEvent]:
    yield from AuditEvent.objects.order_by("id").iterator(chunk_size=batch)


def verify_chain(events: Iterable[AuditEvent] | None = None, *, batch: int = 2000) -> ChainReport:
    """Walk the chain oldest first; stop at the first event whose hash or link is wrong.

    The oldest event must either start the chain (empty prev_hash) or be the anchor a prune
    recorded: after a prune the first kept event still points at a row that no longer exists.
    """
    rows = _events(batch) if events is None else iter(events)
    checked = 0
    prev: AuditEvent | None = None
    anchor_id: int | None = None
    for event in rows:
        if prev is None:
            if event.prev_hash:
                if (event.id, event.prev_hash) not in _accepted_anchors():
                    return ChainReport(
                        checked,
                        event.id,
                        "the oldest event points at a missing predecessor and no prune "
                        "recorded it as the anchor (events were removed)",
                    )
                anchor_id = event.id
        elif event.prev_hash != prev.hash:
            return ChainReport(
                checked,
                event.id,
                f"prev_hash does not match the hash of event #{prev.id} "
                "(an event before it was removed, inserted or its hash changed)",
                anchor_id,
            )
        if not event.hash or compute_hash(event) != event.hash:
            return ChainReport(
                checked, event.id, "its content does not match its hash (row edited)", anchor_id
            )
        checked += 1
        prev = event
    return ChainReport(checked, anchor_id=anchor_id)
