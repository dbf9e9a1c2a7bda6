"""A real Cinder 29 with `driver = messagingv2` on its private RabbitMQ: a status change made on
the cloud reaches the mirror through its notification, read by the dashboard's listener from
its own queue (services/listen.py), recorded with source `notification`."""

from __future__ import annotations

import time
import uuid

import pytest

from snapshots.choices import ChangeSource
from snapshots.models import ListenerState, Snapshot, StatusChange
from snapshots.tests.listening import listening

pytestmark = [pytest.mark.realcloud, pytest.mark.django_db(transaction=True)]


def history(snapshot_id: str) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.source)
        for c in StatusChange.objects.filter(snapshot_id=snapshot_id).order_by("observed_at", "id")
    ]


def test_a_status_change_on_the_real_cinder_reaches_the_mirror_by_its_notification(
    realcloud, cleanup, settings
):
    bus = f"amqp://guest:guest@127.0.0.1:{realcloud.doc['ports']['amqp']}//"
    settings.CINDER_NOTIFICATIONS_URL = bus
    with listening(bus, seconds=45):
        conn = realcloud.noauth("alpha")
        made = conn.block_storage.create_snapshot(
            volume_id=realcloud.volume_id("alpha"),
            name=f"events-{uuid.uuid4().hex[:6]}",
            force=True,
        )
        cleanup("alpha", made.id)
        realcloud.wait_status(conn, made.id, "available")
        # an admin's reset: a status change nobody in the dashboard made
        conn.block_storage.reset_snapshot_status(made.id, "error")
        row = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = Snapshot.objects.filter(pk=made.id).first()
            if row is not None and row.status == "error":
                break
            time.sleep(0.1)
        assert row is not None and row.status == "error", history(made.id)
        got = history(made.id)
        assert ("available", "error", ChangeSource.NOTIFICATION) in got
        assert all(source == ChangeSource.NOTIFICATION for _, _, source in got)
        assert ListenerState.objects.get(id=1).events >= 3
