"""Cinder's notifications applied to the mirror: each event type, idempotent and order-safe,
with source `notification`; the mode the dashboard reports; detection standing back while
events flow; and the listener end to end on the simulator's bus (its own queue, real kombu)."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from snapshots.choices import TRANSITIONAL, ChangeSource
from snapshots.models import ListenerState, Snapshot, StatusChange, Volume
from snapshots.services import detect, listen, sync
from snapshots.tests.listening import listening

pytestmark = pytest.mark.django_db

LIST = "GET /volume/v3/{project_id}/snapshots/detail"


def event(event_type: str, snapshot_id: str, at: datetime | None = None, **payload) -> dict:
    """A notification as oslo.messaging's messagingv2 driver puts it on the bus."""
    at = at or timezone.now()
    body = {
        "message_id": "m",
        "publisher_id": "snapshot.host@lvm",
        "event_type": event_type,
        "priority": "INFO",
        "timestamp": at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "payload": {
            "tenant_id": "p1",
            "user_id": "u1",
            "availability_zone": "nova",
            "volume_id": "v1",
            "volume_size": 1,
            "snapshot_id": snapshot_id,
            "display_name": "from-events",
            "created_at": "2026-11-29T10:00:00+00:00",
            "status": "creating",
            "deleted": "False",
            "metadata": "{'team': 'ops'}",
            **payload,
        },
    }
    return {"oslo.version": "2.0", "oslo.message": json.dumps(body)}


def apply(envelope: dict) -> bool:
    return listen.apply_event(listen.unwrap(envelope))


def history(snapshot_id: str) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.source)
        for c in StatusChange.objects.filter(snapshot_id=snapshot_id).order_by("observed_at", "id")
    ]


def test_a_create_is_followed_from_start_to_end_once_whatever_the_repeats():
    t0 = timezone.now()
    assert apply(event("snapshot.create.start", "s1", t0))
    row = Snapshot.objects.get(pk="s1")
    assert (row.status, row.name, row.metadata) == ("creating", "from-events", {"team": "ops"})
    end = event("snapshot.create.end", "s1", t0 + timedelta(seconds=3), status="available")
    assert apply(end)
    assert not apply(end)  # delivered twice: nothing more
    row.refresh_from_db()
    assert (row.status, row.progress) == ("available", 100)
    assert history("s1") == [
        ("", "creating", ChangeSource.NOTIFICATION),
        ("creating", "available", ChangeSource.NOTIFICATION),
    ]


def test_an_older_event_never_overwrites_a_newer_state():
    t0 = timezone.now()
    apply(event("snapshot.create.end", "s2", t0, status="available"))
    late_start = event("snapshot.create.start", "s2", t0 - timedelta(seconds=2))
    assert not apply(late_start)
    assert Snapshot.objects.get(pk="s2").status == "available"


def test_a_rename_keeps_what_the_payload_lacks_and_a_delete_end_marks_it_gone():
    t0 = timezone.now()
    apply(event("snapshot.create.end", "s3", t0, status="available"))
    Snapshot.objects.filter(pk="s3").update(description="kept")
    assert apply(event("snapshot.update.end", "s3", t0 + timedelta(seconds=1),
                       status="available", display_name="renamed", metadata=""))  # fmt: skip
    row = Snapshot.objects.get(pk="s3")
    assert (row.name, row.description, row.metadata) == ("renamed", "kept", {})
    assert apply(event("snapshot.delete.end", "s3", t0 + timedelta(seconds=2), status="deleted"))
    assert Snapshot.objects.get(pk="s3").deleted_at is not None
    assert history("s3")[-1] == ("available", "deleted", ChangeSource.NOTIFICATION)


def test_volume_events_and_garbage():
    Volume.objects.create(id="v9", project_id="p1", name="old", status="available", size=1)
    assert listen.apply_event(
        {"event_type": "volume.update.end", "payload": {"volume_id": "v9", "display_name": "new"}}
    )
    assert Volume.objects.get(pk="v9").name == "new"
    assert listen.apply_event({"event_type": "volume.delete.end", "payload": {"volume_id": "v9"}})
    assert Volume.objects.get(pk="v9").deleted_at is not None
    assert listen.unwrap("not json") is None
    assert listen.unwrap({"oslo.version": "2.0", "oslo.message": "{"}) is None
    assert not listen.apply_event({"event_type": "image.upload", "payload": {}})


def test_the_mode_says_why(settings):
    settings.CINDER_NOTIFICATIONS_URL = ""
    assert listen.mode().name == "polling" and "configured" in listen.mode().reason
    settings.CINDER_NOTIFICATIONS_URL = "amqp://bus"
    assert "not started" in listen.mode().reason
    now = timezone.now()
    ListenerState.objects.create(id=1, connected=True, heartbeat_at=now, last_event_at=now)
    assert listen.mode().name == "events"
    ListenerState.objects.update(heartbeat_at=now - timedelta(minutes=1))
    assert "not running" in listen.mode().reason
    ListenerState.objects.update(heartbeat_at=now, connected=False)
    assert "unreachable" in listen.mode().reason
    # a quiet cloud sends nothing for long: no fault, as long as no change went unannounced
    ListenerState.objects.update(connected=True, last_event_at=now - timedelta(hours=5))
    assert listen.mode().name == "events"
    listen.note_missed(now)
    assert listen.mode().name == "polling" and "without its notification" in listen.mode().reason
    ListenerState.objects.update(last_event_at=now + timedelta(seconds=1))
    assert listen.mode().name == "events"  # an event after the miss: the bus delivers


def test_while_events_flow_detection_lists_no_status(cloud, settings):
    sync.sync_snapshots()
    assert Snapshot.objects.live().filter(status__in=TRANSITIONAL).exists()
    detect.detect()
    settings.CINDER_NOTIFICATIONS_URL = "amqp://bus"
    now = timezone.now()
    ListenerState.objects.create(id=1, connected=True, heartbeat_at=now, last_event_at=now)
    cloud.reset_stats()
    result = detect.detect()
    assert result.events and cloud.stats()["by_route"] == {LIST: 1}


def test_a_change_only_the_safety_net_finds_turns_polling_on_until_an_event_comes(cloud, settings):
    from snapshots.cloud.credentials import service_gateway

    sync.sync_snapshots()
    detect.detect()
    rows = Snapshot.objects.live().filter(status="available")[:2]
    # a change made before the listener started had no queue to reach: no fault of the bus
    service_gateway().update_snapshot(rows[0].id, name="renamed-before-listening")
    time.sleep(0.01)
    settings.CINDER_NOTIFICATIONS_URL = "amqp://bus"
    quiet = timezone.now() - timedelta(hours=1)
    ListenerState.objects.create(id=1, connected=True, heartbeat_at=timezone.now(),
                                 last_event_at=quiet)  # fmt: skip
    assert detect.detect().changed == 1
    assert detect.detect().changed == 0
    assert listen.mode().name == "events"
    service_gateway().update_snapshot(rows[1].id, name="renamed-unannounced")
    assert detect.detect().changed == 1
    assert listen.mode().name == "polling"
    ListenerState.objects.update(last_event_at=timezone.now(), heartbeat_at=timezone.now())
    assert listen.mode().name == "events"


def test_while_events_flow_a_detect_tick_runs_every_detect_events_interval(settings):
    from datetime import datetime

    settings.DETECT_INTERVAL, settings.DETECT_EVENTS_INTERVAL = 2.5, 15.0
    start = datetime.fromtimestamp((int(time.time()) // 15 + 1) * 15, UTC)
    ticks = [start + timedelta(seconds=s) for s in (0, 2.5, 5, 7.5, 10, 12.5, 15)]
    polling = [detect.claim_detect_tick(sent_at=t) for t in ticks]
    assert polling == [True] * 7  # one each DETECT_INTERVAL
    settings.CINDER_NOTIFICATIONS_URL = "amqp://bus"
    now = timezone.now()
    ListenerState.objects.create(id=1, connected=True, heartbeat_at=now, last_event_at=now)
    later = [t + timedelta(minutes=1) for t in ticks]
    events = [detect.claim_detect_tick(sent_at=t) for t in later]
    assert events == [True, False, False, False, False, False, True]


def test_the_overview_says_which_mode(login, settings):
    settings.CINDER_NOTIFICATIONS_URL = ""
    page = login("auditor").get(reverse("snapshots:overview")).content.decode()
    assert "by <strong>polling</strong>" in page and "no notification bus" in page


@pytest.mark.django_db(transaction=True)
def test_the_listener_applies_the_simulators_notifications_from_its_own_queue(tmp_path, settings):
    from kombu import Exchange, Queue

    from cloudsim.notify import connection as sim_bus
    from cloudsim.testing import start_simulator
    from snapshots.cloud import credentials

    bus = f"filesystem://{tmp_path / 'bus'}"
    sim = start_simulator("--create-delay", "1", "--notify-url", bus)
    try:
        clouds = tmp_path / "clouds.yaml"
        sim.write_clouds_yaml(clouds, "events")
        settings.OS_CLOUD, settings.OS_CLIENT_CONFIG_FILE = "events", str(clouds)
        settings.CINDER_NOTIFICATIONS_URL = bus
        credentials.reset_service_gateway()
        # Another consumer (Ceilometer's queue) bound to the same key keeps its own copy.
        other = Queue("notifications.info", Exchange("openstack", type="topic", durable=False),
                      routing_key="notifications.info", durable=False)  # fmt: skip
        with sim_bus(bus) as conn:
            other(conn.default_channel).declare()
        with listening(bus, seconds=15) as lines:
            gateway = credentials.service_gateway()
            volume = gateway.list_volumes(all_projects=True, limit=1)[0]
            made = gateway.create_snapshot(volume_id=volume.id, name="evented", force=True)
            seen = None
            until = time.monotonic() + 10  # the create's delay, and room for a loaded machine
            while time.monotonic() < until:
                row = Snapshot.objects.filter(pk=made.id).first()
                if row is not None and row.status == "available":
                    seen = row
                    break
                time.sleep(0.05)
        assert seen is not None, "the create reached the mirror through its notifications"
        assert history(made.id) == [
            ("", "creating", ChangeSource.NOTIFICATION),
            ("creating", "available", ChangeSource.NOTIFICATION),
        ]
        assert lines and lines[0].startswith("listening on filesystem://")
        assert ListenerState.objects.get(id=1).events >= 2
        with sim_bus(bus) as conn:
            copies = []
            with conn.Consumer(other, callbacks=[lambda b, m: (copies.append(b), m.ack())],
                               accept=["json"]):  # fmt: skip
                for _ in range(10):
                    with contextlib.suppress(TimeoutError):
                        conn.drain_events(timeout=0.2)
        types = [json.loads(c["oslo.message"])["event_type"] for c in copies]
        assert "snapshot.create.end" in types  # nothing was stolen from the other queue
    finally:
        sim.stop()
        credentials.reset_service_gateway()


@pytest.mark.django_db(transaction=True)
def test_an_event_that_meets_a_busy_database_is_applied_late_not_lost(tmp_path, settings):
    """The listener's write meets a table another connection holds (SQLite answers "table is
    locked" at once; PostgreSQL makes it wait): the event is tried again, or handed back to the
    bus, and lands once the table is free. It used to be acknowledged and dropped."""
    from django.db import transaction
    from kombu import Exchange, Producer

    from cloudsim.notify import ROUTING_KEY
    from cloudsim.notify import connection as sim_bus

    bus = f"filesystem://{tmp_path / 'bus'}"
    settings.CINDER_NOTIFICATIONS_URL = bus
    # kombu keeps the filesystem transport's bindings per process: a fresh exchange name
    # makes the listener bind in this test's folder even after the test above bound its own
    settings.CINDER_NOTIFICATIONS_EXCHANGE = exchange_name = f"busy-{tmp_path.name}"
    Snapshot.objects.create(id="s-busy", name="before", status="creating", size=1,
                            volume_id="v1", project_id="p1", created_at=timezone.now())  # fmt: skip
    with listening(bus, seconds=12):
        with transaction.atomic():
            Snapshot.objects.filter(pk="s-busy").update(name="held")  # holds the table
            with sim_bus(bus) as conn:
                Producer(conn.default_channel).publish(
                    event("snapshot.create.end", "s-busy", status="available"),
                    exchange=Exchange(exchange_name, type="topic", durable=False),
                    routing_key=ROUTING_KEY,
                    serializer="json",
                )
            time.sleep(1.5)  # past every quick retry: the message goes back to the bus
        row = None
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            row = Snapshot.objects.get(pk="s-busy")
            if row.status == "available":
                break
            time.sleep(0.1)
        assert row is not None and row.status == "available", history("s-busy")
        assert ("creating", "available", ChangeSource.NOTIFICATION) in history("s-busy")
