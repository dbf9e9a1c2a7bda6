"""Cinder's notifications, published the way a Cinder with
`[oslo_messaging_notifications] driver = messagingv2` publishes them, to the bus `--notify-url`
names (amqp://, redis://, or filesystem:///a/folder for the embedded transport of `make run`).

Envelope (oslo.messaging 2.0): a JSON body {"oslo.version": "2.0", "oslo.message": "<json>"}
whose inner message carries message_id, publisher_id ("snapshot.<host>"), event_type
("snapshot.create.end", ...), priority "INFO", payload and timestamp ("YYYY-MM-DD HH:MM:SS.ffffff",
UTC). It goes to the topic exchange `cinder` with routing key `notifications.info`; every queue
bound to that key gets its own copy. Snapshot payloads have Cinder 29's keys: tenant_id,
user_id, availability_zone, volume_id, volume_size, snapshot_id, display_name, created_at,
status, deleted, metadata (the Python text of a dict, as Cinder's null_safe_str gives it).

Publishing happens on a thread of its own (a request never waits for the bus), and while a bus
is configured a clock thread applies due transitions every TICK seconds, as a real Cinder's
workers finish their jobs without anyone asking, so `create.end` goes out on time.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("cloudsim.notify")

EXCHANGE = "openstack"  # oslo.messaging's default control_exchange, which Cinder 29 keeps
ROUTING_KEY = "notifications.info"
HOST = "cloudsim@lvm"
TICK = 0.1  # seconds between applications of due transitions


def connection(url: str):
    """A kombu connection for `url`; filesystem:///folder uses that folder's in/ and control/."""
    import kombu

    if url.startswith("filesystem://"):
        folder = Path(url[len("filesystem://") :] or ".")
        for sub in ("in", "control", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return kombu.Connection(
            "filesystem://",
            transport=_atomic_filesystem_transport(),
            transport_options={
                "data_folder_in": str(folder / "in"),
                "data_folder_out": str(folder / "in"),
                "control_folder": str(folder / "control"),
                "processed_folder": str(folder / "processed"),
                "store_processed": False,
                "polling_interval": 0.05,
            },
        )
    return kombu.Connection(url)


def _atomic_filesystem_transport():
    """kombu's filesystem transport, writing each message under a hidden name and renaming it
    into place, so a reader never takes a half-written file."""
    from kombu.transport import filesystem
    from kombu.utils.encoding import str_to_bytes
    from kombu.utils.json import dumps

    class Channel(filesystem.Channel):
        def _put(self, queue_name, payload, **kwargs):
            name = f"{datetime.now(UTC):%Y%m%d%H%M%S%f}_{uuid.uuid4()}.{queue_name}.msg"
            final = os.path.join(self.data_folder_out, name)
            partial = os.path.join(self.data_folder_out, f".{name}.part")
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)

    class Transport(filesystem.Transport):
        pass

    Transport.Channel = Channel
    return Transport


def envelope(event_type: str, payload: dict, publisher: str, now: float) -> dict:
    message = {
        "message_id": str(uuid.uuid4()),
        "publisher_id": publisher,
        "event_type": event_type,
        "priority": "INFO",
        "payload": payload,
        "timestamp": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def snapshot_payload(row, availability_zone: str = "nova", status: str | None = None) -> dict:
    metadata = json.loads(row["metadata"] or "{}")
    return {
        "tenant_id": row["project_id"],
        "user_id": row["user_id"],
        "availability_zone": availability_zone,
        "volume_id": row["volume_id"],
        "volume_size": row["volume_size"],
        "snapshot_id": row["id"],
        "display_name": row["display_name"],
        "created_at": _iso(row["created_at"]),
        "status": status or row["status"],
        "deleted": "True" if status == "deleted" else "False",
        "metadata": str(metadata) if metadata else "",
    }


def volume_payload(row, status: str | None = None) -> dict:
    return {
        "tenant_id": row["project_id"],
        "user_id": row["user_id"],
        "availability_zone": row["availability_zone"],
        "volume_id": row["id"],
        "volume_type": row["volume_type"],
        "display_name": row["display_name"],
        "size": row["size"],
        "status": status or row["status"],
        "created_at": _iso(row["created_at"]),
        "snapshot_id": row["snapshot_id"],
    }


class Notifier:
    """Queues events and publishes them on its own thread; also drives the store's clock."""

    def __init__(self, url: str, store) -> None:
        self.url = url
        self.store = store
        self.outbox: queue.Queue = queue.Queue()
        self.published = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._publish_loop, name="notify", daemon=True).start()
        threading.Thread(target=self._clock_loop, name="notify-clock", daemon=True).start()

    # -- what cinder.py and the store call ---------------------------------------------------
    def snapshot(self, row, event: str, status: str | None = None) -> None:
        zone = "nova"
        vol = self.store.q1(
            "SELECT availability_zone FROM volumes WHERE id = ?", (row["volume_id"],)
        )
        if vol is not None and vol["availability_zone"]:
            zone = vol["availability_zone"]
        self._emit(f"snapshot.{event}", snapshot_payload(row, zone, status), "snapshot")

    def snapshot_by_id(self, sid: str, event: str) -> None:
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        if row is not None:
            self.snapshot(row, event)

    def volume(self, row, event: str, status: str | None = None) -> None:
        self._emit(f"volume.{event}", volume_payload(row, status), "volume")

    def transition(self, table: str, row, new_status: str) -> None:
        """A time-driven change the store applied (`gone`: the row was removed)."""
        gone = new_status == "gone"
        status = "deleted" if gone else new_status
        emit = {"snapshots": self.snapshot, "volumes": self.volume}.get(table)
        if emit is None:
            return
        if row["status"] == "creating":
            emit(row, "create.end", status)
        elif gone:
            emit(row, "delete.end", status)
        else:
            emit(row, "update.end", status)

    # -- internals -----------------------------------------------------------------------------
    def _emit(self, event_type: str, payload: dict, kind: str) -> None:
        body = envelope(event_type, payload, f"{kind}.{HOST}", self.store.now())
        self.outbox.put(body)

    def _publish_loop(self) -> None:
        from kombu import Exchange, Producer

        exchange = Exchange(EXCHANGE, type="topic", durable=False)
        while not self.stopped.is_set():
            try:
                with connection(self.url) as conn:
                    producer = Producer(conn.channel(), exchange=exchange)
                    exchange(conn.default_channel).declare()
                    while not self.stopped.is_set():
                        try:
                            body = self.outbox.get(timeout=0.5)
                        except queue.Empty:
                            continue
                        producer.publish(
                            body,
                            routing_key=ROUTING_KEY,
                            serializer="json",
                            retry=True,
                            retry_policy={"max_retries": 3},
                        )
                        self.published += 1
            except Exception as exc:  # a bus that is down loses events, as Cinder's would
                log.warning("notification bus %s unavailable: %s", _safe(self.url), exc)
                self.stopped.wait(1.0)

    def _clock_loop(self) -> None:
        while not self.stopped.wait(TICK):
            try:
                with self.store.lock:
                    self.store.materialise()
            except Exception as exc:  # never let the clock thread die
                log.warning("could not apply due transitions: %s", exc)

    def stop(self) -> None:
        self.stopped.set()


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def emit(sim: Any, kind: str, row, event: str, status: str | None = None) -> None:
    """The hook cinder.py calls: does nothing unless the simulator was given a bus."""
    notifier = getattr(sim, "notifier", None)
    if notifier is None or row is None:
        return
    if kind == "snapshot":
        notifier.snapshot(row, event, status)
    else:
        notifier.volume(row, event, status)
