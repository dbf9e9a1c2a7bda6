"""Notifications as Cinder publishes them with `driver = messagingv2`: the oslo envelope, the
event types and payload keys, on the `cinder` topic exchange, a copy for every bound queue (so a
second consumer steals nothing), and time-driven ends sent on time without any request."""

from __future__ import annotations

import json
import time

import pytest
from kombu import Exchange, Queue

from cloudsim.notify import EXCHANGE, ROUTING_KEY, connection
from cloudsim.testing import start_simulator

SNAPSHOT_KEYS = {
    "tenant_id", "user_id", "availability_zone", "volume_id", "volume_size", "snapshot_id",
    "display_name", "created_at", "status", "deleted", "metadata",
}  # fmt: skip


@pytest.fixture(scope="module")
def bus(tmp_path_factory):
    return f"filesystem://{tmp_path_factory.mktemp('bus')}"


@pytest.fixture(scope="module")
def noisy(bus):
    sim = start_simulator("--create-delay", "1", "--delete-delay", "1", "--notify-url", bus)
    yield sim
    sim.stop()


def drain(conn, queue: Queue, until: float) -> list[dict]:
    got: list[dict] = []
    with conn.Consumer(queue, callbacks=[lambda body, msg: (got.append(body), msg.ack())],
                       accept=["json"]):  # fmt: skip
        while time.monotonic() < until:
            try:
                conn.drain_events(timeout=0.2)
            except TimeoutError:
                pass
            except OSError:
                pass
    return got


def events(bodies: list[dict]) -> list[dict]:
    out = []
    for body in bodies:
        assert body["oslo.version"] == "2.0"
        out.append(json.loads(body["oslo.message"]))
    return out


def test_a_create_sends_start_then_end_on_time_to_every_bound_queue(noisy, bus):
    exchange = Exchange(EXCHANGE, type="topic", durable=False)
    mine = Queue("dashboard-test", exchange, routing_key=ROUTING_KEY, durable=False)
    theirs = Queue("ceilometer-test", exchange, routing_key=ROUTING_KEY, durable=False)
    with connection(bus) as conn:
        for q in (mine, theirs):
            q(conn.default_channel).declare()
        made = noisy.create_snapshot("alpha", name="seen", status="available")
        # the control API is not Cinder's: the public API emits; use a member's real create
        from cloudsim.tests.conftest import Raw

        raw = Raw(noisy)
        vol = raw.get("/volumes", params={"limit": 1}).json()["volumes"][0]["id"]
        sid = raw.post(
            "/snapshots", json={"snapshot": {"volume_id": vol, "name": "n1", "force": True}}
        ).json()["snapshot"]["id"]
        mine_events = events(drain(conn, mine, time.monotonic() + 3))
        theirs_events = events(drain(conn, theirs, time.monotonic() + 0.5))
    ours = [e for e in mine_events if e["payload"].get("snapshot_id") == sid]
    assert [e["event_type"] for e in ours] == ["snapshot.create.start", "snapshot.create.end"]
    assert [e["event_type"] for e in theirs_events if e["payload"].get("snapshot_id") == sid] == [
        "snapshot.create.start",
        "snapshot.create.end",
    ]
    end = ours[1]
    assert set(end["payload"]) == SNAPSHOT_KEYS
    assert end["payload"]["status"] == "available" and end["payload"]["display_name"] == "n1"
    assert end["publisher_id"].startswith("snapshot.") and end["priority"] == "INFO"
    # sent when the create finished (1 s), not when someone next asked
    from datetime import datetime

    stamps = [datetime.fromisoformat(e["timestamp"]) for e in ours]
    assert 0.9 <= (stamps[1] - stamps[0]).total_seconds() < 1.5
    assert made["id"] not in {e["payload"].get("snapshot_id") for e in mine_events}


def test_rename_reset_and_delete_send_their_events(noisy, bus):
    exchange = Exchange(EXCHANGE, type="topic", durable=False)
    mine = Queue("dashboard-test-2", exchange, routing_key=ROUTING_KEY, durable=False)
    from cloudsim.tests.conftest import Raw

    raw = Raw(noisy, "admin", "alpha")
    with connection(bus) as conn:
        mine(conn.default_channel).declare()
        sid = noisy.create_snapshot("alpha", name="x", status="available")["id"]
        raw.put(f"/snapshots/{sid}", json={"snapshot": {"name": "y"}})
        raw.post(f"/snapshots/{sid}/action", json={"os-reset_status": {"status": "error"}})
        raw.post(f"/snapshots/{sid}/action", json={"os-force_delete": {}})
        got = events(drain(conn, mine, time.monotonic() + 2.5))
    kinds = [e["event_type"] for e in got if e["payload"].get("snapshot_id") == sid]
    assert kinds == [
        "snapshot.update.start",
        "snapshot.update.end",
        "snapshot.reset_status.start",
        "snapshot.reset_status.end",
        "snapshot.delete.start",
        "snapshot.delete.end",
    ]
    last = [e for e in got if e["payload"].get("snapshot_id") == sid][-1]["payload"]
    assert (last["status"], last["deleted"]) == ("deleted", "True")
