"""The only writer of AuditEvent rows, and the keyed hash chain that makes edits to them visible.

Every event stores `prev_hash` (the hash of the event written just before it), `key_id` and
`hash`: an HMAC-SHA256, with the key `key_id` names, over a canonical JSON of its own fields
plus `prev_hash`. The keys live in settings (AUDIT_HMAC_KEYS, from the environment), never in
the database, so someone who can only write to the database cannot recompute a valid hash after
editing, removing or inserting a row: `verify_chain()` (and `manage.py verify_audit`) names the
first broken event. Keys rotate: new events use AUDIT_HMAC_KEY_ID, old ones keep the id of the
key that signed them, and old keys stay listed for verification.

Events written before the chain was keyed (blank key_id, plain sha256) are accepted only as the
oldest run of the chain, followed by keyed events (migration 0004 appends one): a plain-hash
event after a keyed one, or a chain whose newest event is not keyed, is a rewrite.

The head (newest id and hash) is written to the log at every beat tick (`log_head()`), so a log
store outside the database anchors it and removing the newest events is visible too.

Writers are serialised (a PostgreSQL advisory lock held until the writer's transaction commits;
on SQLite the IMMEDIATE transaction itself), so two processes never both extend the same head.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from snapshots import memo
from snapshots.choices import Outcome
from snapshots.cloud.errors import CloudError, OutcomeUnknown, Unavailable
from snapshots.models import AuditEvent
from snapshots.observability import metrics
from snapshots.permissions import Scope

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
# pg_advisory_xact_lock key of the chain (an arbitrary constant: "audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974
# Appended once by migration 0004 after events that predate keying: the first keyed link.
KEYED_ACTION = "audit_chain_keyed"
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


class UnknownKey(Exception):
    """An event names a key id that settings.AUDIT_HMAC_KEYS does not hold."""


def canonical(event: AuditEvent) -> bytes:
    """The bytes the hash is computed over: the same whether the event is new or read back."""
    values: dict[str, Any] = {}
    names = (*HASHED_FIELDS, "key_id") if event.key_id else HASHED_FIELDS
    for name in names:
        value = getattr(event, name)
        if name == "created_at":
            value = _canonical_time(value)
        values[name] = value
    return json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _key(key_id: str) -> bytes:
    try:
        return settings.AUDIT_HMAC_KEYS[key_id].encode()
    except KeyError:
        raise UnknownKey(f"no audit key with id {key_id!r} in AUDIT_HMAC_KEYS") from None


def compute_hash(event: AuditEvent) -> str:
    """HMAC-SHA256 with the event's key; plain sha256 for an event from before keying."""
    if not event.key_id:
        return hashlib.sha256(canonical(event)).hexdigest()
    return hmac.new(_key(event.key_id), canonical(event), hashlib.sha256).hexdigest()


def _json_safe(parameters: dict[str, Any] | None) -> dict[str, Any]:
    """What the JSON column will give back, so the hash matches the stored row."""
    return json.loads(json.dumps(parameters or {}, default=str))


def lock_chain() -> None:
    """Hold the chain's lock until the surrounding transaction ends.

    PostgreSQL: a transaction-level advisory lock (no table row to read, lock or bloat; released
    by the commit). SQLite: the settings open every transaction with BEGIN IMMEDIATE, so writers
    already queue on the file. Taken as late as possible: just before the head is read.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_head() -> AuditEvent | None:
    return AuditEvent.objects.order_by("-id").only("id", "hash").first()


@transaction.atomic
def append(event: AuditEvent) -> AuditEvent:
    """Link `event` to the current head and insert it. Callers hold no other audit lock."""
    lock_chain()
    head = chain_head()
    event.prev_hash = head.hash if head else ""
    event.key_id = settings.AUDIT_HMAC_KEY_ID
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    metrics.audit_event_written(event.action, event.outcome)
    memo.changed(memo.AUDIT)
    return event


def log_head() -> str:
    """Write the chain's head to the log (beat): an anchor outside the database."""
    head = AuditEvent.objects.order_by("-id").only("id", "hash", "key_id").first()
    if head is None:
        line = "audit chain head: empty"
    else:
        line = f"audit chain head: #{head.id} {head.hash} key={head.key_id or '-'}"
    log.info(line)
    return line


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
    status_code: int | None = None,
    request_id: str = "",
) -> AuditEvent:
    """Append one audit event. Never pass a token or password in `parameters`.

    `status_code` and `request_id` are Cinder's answer to a call that went through; for one
    that failed they come from `error`."""
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
    if isinstance(error, OutcomeUnknown):
        return Outcome.UNKNOWN
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
        if not event.key_id and prev is not None and prev.key_id:
            return ChainReport(
                checked,
                event.id,
                "it has no key id after keyed events (rewritten with plain hashes)",
                anchor_id,
            )
        try:
            expected = compute_hash(event)
        except UnknownKey as exc:
            return ChainReport(checked, event.id, str(exc), anchor_id)
        if not event.hash or not hmac.compare_digest(expected, event.hash):
            return ChainReport(
                checked, event.id, "its content does not match its hash (row edited)", anchor_id
            )
        checked += 1
        prev = event
    if prev is not None and not prev.key_id:
        return ChainReport(
            checked - 1,
            prev.id,
            "the newest event has no key id: the chain ends in plain hashes (rewritten)",
            anchor_id,
        )
    return ChainReport(checked, anchor_id=anchor_id)
