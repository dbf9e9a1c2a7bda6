"""Cinder's own notifications, applied to the mirror as they arrive (`manage.py
listen_notifications`, one process, optional).

Cinder with `[oslo_messaging_notifications] driver = messagingv2` publishes to the topic
exchange `cinder` (CINDER_NOTIFICATIONS_EXCHANGE) with routing key `notifications.info`. The
listener declares its OWN queue (CINDER_NOTIFICATIONS_QUEUE) bound to that key, so every other
consumer (Ceilometer reads the queue `notifications.info`) keeps getting its own copy. Each
event goes through services/mirror.py with source `notification`:

- `snapshot.delete.end`: the snapshot is gone;
- any other `snapshot.*`: the payload's status, name, size, volume, owner and metadata over
  what the mirror has (the payload lacks the description and progress: those stay);
- `volume.delete.end`: the volume is gone; other `volume.*`: its name, status and size.

Idempotent and order-safe: an event is stamped with Cinder's time, and one older than what the
mirror last read from Cinder for that snapshot (its `updated_at`) changes nothing. A message
that cannot be understood is logged and dropped, never retried forever. A message that cannot
be stored because the database is busy or down is a good message: it is tried again a few times,
then handed back to the bus unacknowledged, and the listener reconnects after its back-off, so
the event is applied late rather than lost.

The listener writes a heartbeat (ListenerState) every HEARTBEAT seconds; `mode()` tells the
dashboard (overview, readiness) and detection whether events flow. While they do, detection
stops listing transitional statuses (the events carry those changes) and keeps only its
cheap recent listing as the safety net, every DETECT_EVENTS_INTERVAL. A quiet cloud sends no
events and that is no fault; a change the safety net finds that no event brought is
(`note_missed`): polling carries on alone from then until an event arrives again, as it does
while the bus is unconfigured or down.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.db.models import F
from django.utils import timezone

from dashboard.bus_folder import folder_transport_options
from snapshots import memo
from snapshots.choices import ChangeSource
from snapshots.cloud.dto import SnapshotData
from snapshots.models import ListenerState, Snapshot, Volume
from snapshots.services import mirror

log = logging.getLogger(__name__)

HEARTBEAT = 5.0  # seconds between heartbeats
STALE_AFTER = 3 * HEARTBEAT  # a heartbeat older than this: the listener is not running
BUSY_RETRIES = (0.05, 0.2, 0.5)  # seconds to wait before each new try while the database is busy
EVENTS, POLLING = "events", "polling"


# --- the mode the dashboard is in ---------------------------------------------------------------
@dataclass(frozen=True)
class Mode:
    name: str  # EVENTS or POLLING
    reason: str  # for people: why this mode
    last_event_at: datetime | None = None


def mode(now: datetime | None = None) -> Mode:
    """Whether changes reach the mirror by Cinder's notifications or by polling alone. One
    primary-key read; safe to call from any page or health check."""
    now = now or timezone.now()
    if not settings.CINDER_NOTIFICATIONS_URL:
        return Mode(POLLING, "no notification bus is configured")
    state = ListenerState.objects.filter(id=1).first()
    if state is None or state.heartbeat_at is None:
        return Mode(POLLING, "the notification listener has not started")
    if now - state.heartbeat_at > timedelta(seconds=STALE_AFTER):
        return Mode(POLLING, "the notification listener is not running", state.last_event_at)
    if not state.connected:
        return Mode(POLLING, "the notification bus is unreachable", state.last_event_at)
    if state.missed_at is not None and (
        state.last_event_at is None or state.last_event_at < state.missed_at
    ):
        return Mode(
            POLLING,
            "a change reached the mirror without its notification, and none has come since",
            state.last_event_at,
        )
    return Mode(EVENTS, "Cinder's notifications arrive", state.last_event_at)


def listening_since() -> datetime | None:
    """When the listener started: a change Cinder made before then had no queue to reach."""
    return ListenerState.objects.filter(id=1).values_list("started_at", flat=True).first()


def note_missed(now: datetime | None = None) -> None:
    """Detection found a change while the mode was `events`: no notification brought it (yet).
    Polling carries the changes until an event arrives after this; an event that was only late
    arrives at once and restores the mode."""
    ListenerState.objects.filter(id=1).update(missed_at=now or timezone.now())


def events_flow() -> bool:
    return mode().name == EVENTS


# --- one event -----------------------------------------------------------------------------------
def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _metadata(value: Any) -> dict[str, str] | None:
    """Cinder sends the metadata as the text of a Python dict ("{'k': 'v'}"), or "" for none."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if value in ("", None):
        return {}
    try:
        parsed = ast.literal_eval(str(value))
    except (ValueError, SyntaxError):
        return None
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else None


def unwrap(body: Any) -> dict | None:
    """The notification inside an oslo.messaging envelope (2.0), or a bare one (1.0)."""
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if not isinstance(body, dict):
        return None
    if "oslo.message" in body:
        try:
            body = json.loads(body["oslo.message"])
        except (TypeError, ValueError):
            return None
    if not isinstance(body, dict) or "event_type" not in body:
        return None
    return body


def apply_event(message: dict, *, received_at: datetime | None = None) -> bool:
    """Apply one notification to the mirror; True when it changed something."""
    received_at = received_at or timezone.now()
    event_type = str(message.get("event_type", ""))
    payload = message.get("payload") or {}
    if not isinstance(payload, dict):
        return False
    stamped = _when(message.get("timestamp")) or received_at
    if event_type.startswith("snapshot."):
        return _snapshot_event(event_type, payload, stamped, received_at)
    if event_type.startswith("volume."):
        return _volume_event(event_type, payload, received_at)
    return False


def _snapshot_event(event_type: str, payload: dict, stamped: datetime, now: datetime) -> bool:
    snapshot_id = payload.get("snapshot_id")
    if not snapshot_id:
        return False
    row = Snapshot.objects.filter(pk=snapshot_id).first()
    if row is not None and row.updated_at is not None and row.updated_at > stamped:
        return False  # the mirror already read a later state from Cinder
    if event_type == "snapshot.delete.end" or payload.get("status") == "deleted":
        return mirror.mark_gone(
            snapshot_id, source=ChangeSource.NOTIFICATION, now=now, if_newer=True
        )
    status = payload.get("status") or (row.status if row else "")
    metadata = _metadata(payload.get("metadata"))
    if metadata is None:
        metadata = row.metadata if row else {}
    progress = row.progress if row else None
    if status == "available":
        progress = 100
    data = SnapshotData(
        id=snapshot_id,
        name=payload.get("display_name") or "",
        description=row.description if row else "",
        status=status,
        size=int(payload.get("volume_size") or (row.size if row else 0)),
        volume_id=payload.get("volume_id") or (row.volume_id if row else ""),
        project_id=payload.get("tenant_id") or (row.project_id if row else ""),
        created_at=_when(payload.get("created_at")) or (row.created_at if row else stamped),
        # Cinder's time of this change: a later, older event compares against it
        updated_at=max(stamped, row.updated_at) if row and row.updated_at else stamped,
        progress=progress,
        user_id=payload.get("user_id") or (row.user_id if row else ""),
        group_snapshot_id=row.group_snapshot_id if row else "",
        consumes_quota=row.consumes_quota if row else None,
        metadata=metadata,
    )
    _, changed = mirror.apply(
        data, source=ChangeSource.NOTIFICATION, now=now, if_newer=True, discovered=True
    )
    return changed


def _volume_event(event_type: str, payload: dict, now: datetime) -> bool:
    changed = _apply_volume_event(event_type, payload, now)
    if changed:
        memo.changed()
    return changed


def _apply_volume_event(event_type: str, payload: dict, now: datetime) -> bool:
    volume_id = payload.get("volume_id")
    if not volume_id:
        return False
    if event_type == "volume.delete.end":
        return bool(
            Volume.objects.filter(pk=volume_id, deleted_at=None).update(
                deleted_at=now, last_seen=now
            )
        )
    fields = {}
    if payload.get("display_name") is not None:
        fields["name"] = payload["display_name"]
    if payload.get("status"):
        fields["status"] = payload["status"]
    if payload.get("size") is not None:
        fields["size"] = int(payload["size"])
    if not fields:
        return False
    # Only volumes the mirror knows: a new one arrives whole with the next sweep page.
    return bool(Volume.objects.filter(pk=volume_id).update(**fields, last_seen=now))


# --- the process ---------------------------------------------------------------------------------
def safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def connection(url: str):
    """A kombu connection for the bus. filesystem:///folder is the embedded transport of `make
    run` (the simulator publishes into the same folder)."""
    import kombu

    if url.startswith("filesystem://"):
        folder = Path(url[len("filesystem://") :] or ".")
        return kombu.Connection(
            "filesystem://",
            transport="dashboard.fsbroker:Transport",
            transport_options=folder_transport_options(folder, polling_interval=0.05),
        )
    return kombu.Connection(url, heartbeat=30)


def _apply_when_stored(event: dict[str, Any]) -> bool:
    """apply_event, tried again while the database answers busy or locked; the last failure is
    raised. Safe to repeat: an event is one idempotent, timestamp-guarded write."""
    for wait in BUSY_RETRIES:
        try:
            return apply_event(event)
        except (OperationalError, InterfaceError) as exc:
            log.warning("notification %s: database busy (%s); again in %.2f s",
                        event.get("event_type"), exc, wait)  # fmt: skip
            time.sleep(wait)
    return apply_event(event)


def _beat(**fields: Any) -> None:
    fields.setdefault("heartbeat_at", timezone.now())
    if not ListenerState.objects.filter(id=1).update(**fields):
        ListenerState.objects.get_or_create(id=1, defaults=fields)


def listen(*, url: str | None = None, stop_after: float | None = None, out=None) -> int:
    """Consume until interrupted (or for `stop_after` seconds); reconnects with back-off.
    Returns the number of events applied."""
    from kombu import Exchange, Queue

    url = url or settings.CINDER_NOTIFICATIONS_URL
    exchange = Exchange(settings.CINDER_NOTIFICATIONS_EXCHANGE, type="topic", durable=False)
    queue = Queue(
        settings.CINDER_NOTIFICATIONS_QUEUE,
        exchange,
        routing_key=f"{settings.CINDER_NOTIFICATIONS_TOPIC}.info",
        durable=False,
        auto_delete=False,
    )
    applied = 0
    ends = None if stop_after is None else time.monotonic() + stop_after
    _beat(connected=False, started_at=timezone.now(), last_error="")

    def on_message(body: Any, message: Any) -> None:
        nonlocal applied
        close_old_connections()
        event = unwrap(body)
        try:
            if event is not None and _apply_when_stored(event):
                applied += 1
        except (OperationalError, InterfaceError):
            message.requeue()  # the database, not the message: back to the bus, not lost
            raise
        except Exception:  # a bad message must not stop the listener or come back forever
            log.exception("could not apply notification %s", (event or {}).get("event_type"))
        message.ack()
        now = timezone.now()
        ListenerState.objects.filter(id=1).update(
            last_event_at=now, heartbeat_at=now, events=F("events") + 1
        )

    wait = 1.0
    while ends is None or time.monotonic() < ends:
        try:
            with connection(url) as conn:
                conn.ensure_connection(max_retries=1)
                with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
                    _beat(connected=True, last_error="")
                    if out is not None:
                        out(f"listening on {safe_url(url)} (queue {queue.name})")
                    wait = 1.0
                    last_beat = time.monotonic()
                    while ends is None or time.monotonic() < ends:
                        with contextlib.suppress(TimeoutError):
                            conn.drain_events(timeout=1.0)
                        if time.monotonic() - last_beat >= HEARTBEAT:
                            close_old_connections()
                            _beat(connected=True)
                            last_beat = time.monotonic()
        except KeyboardInterrupt:
            break
        except Exception as exc:
            close_old_connections()
            with contextlib.suppress(OperationalError, InterfaceError):  # the database may be why
                _beat(connected=False, last_error=str(exc)[:255])
            log.warning("notification bus %s: %s; retrying in %.0f s", safe_url(url), exc, wait)
            time.sleep(wait)
            wait = min(30.0, wait * 2)
    _beat(connected=False)
    return applied
