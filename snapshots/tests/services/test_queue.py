"""Asking the worker for follow-up work while the broker is down: the request goes on.

The Celery app is pointed at a Redis port where nothing listens (a real connection refused,
not a mock); the follow-up is then left to the beat: the snapshot is due for the next track.
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from snapshots.services import queue
from snapshots.tests.factories import make_snapshot

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_down(monkeypatch):
    """The real sender, on a Redis broker that refuses connections."""
    from dashboard.celery import app

    monkeypatch.setattr(queue, "send", _real_send)
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._pool = None
    app.amqp._producer_pool = None


def _real_send(task, kwargs):
    from dashboard.celery import app

    app.send_task(task, kwargs=kwargs, retry=True, retry_policy=queue.RETRY_POLICY)


def test_a_follow_up_with_the_broker_down_never_raises_and_is_left_to_the_beat(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(minutes=5)
    row = make_snapshot("p1", status="creating", next_check_at=later, check_interval=300)
    caplog.set_level(logging.WARNING, logger="snapshots.services.queue")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue.enqueue(queue.TRACK_TASK, snapshot_id=row.id)  # what an action does after Cinder
    row.refresh_from_db()
    assert row.next_check_at <= timezone.now(), "due for the very next track tick"
    assert any("could not send snapshots.tasks.track" in r.message for r in caplog.records)


def test_deliver_says_whether_the_message_went(broker_down):
    row = make_snapshot("p1", status="deleting")
    assert queue.deliver(queue.TRACK_TASK, {"snapshot_id": row.id}) is False


def test_deliver_sends_when_the_broker_answers(monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "send", lambda task, kwargs: sent.append((task, kwargs)))
    assert queue.deliver(queue.TRACK_TASK, {"snapshot_id": "x"}) is True
    assert sent == [(queue.TRACK_TASK, {"snapshot_id": "x"})]
