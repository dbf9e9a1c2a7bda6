"""Asking the worker for follow-up work while the broker is down: the request goes on.

The Celery app is pointed at a Redis port where nothing listens (a real connection refused,
not a mock); the follow-up is then left to the beat: the snapshot is due for the next track.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
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


REAL_SEND = queue.send  # before the `enqueued` fixture puts its recorder in its place


@contextlib.contextmanager
def broker_at(url: str, monkeypatch):
    """The real sender, with the Celery app pointed at `url`."""
    from dashboard.celery import app

    monkeypatch.setattr(queue, "send", REAL_SEND)
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets it).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    saved = app.conf.broker_url, app.conf.broker_transport, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.broker_transport = url, None  # not the embedded broker's
    app.conf.broker_transport_options = {"visibility_timeout": 3600}  # as settings set for Redis
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport, app.conf.broker_transport_options = saved
        app._pool = None
        app.amqp._producer_pool = None


@pytest.fixture
def broker_down(monkeypatch):
    """A Redis broker that refuses connections."""
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0", monkeypatch):
        yield


@pytest.fixture
def broker_hung(monkeypatch):
    """A Redis broker that accepts connections and never answers (paused, dead link)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        with broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", monkeypatch):
            yield


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


def test_a_broker_that_does_not_answer_holds_the_request_a_few_seconds_at_most(broker_hung):
    row = make_snapshot("p1", status="creating")
    started = time.monotonic()
    assert queue.deliver(queue.TRACK_TASK, {"snapshot_id": row.id}) is False
    assert time.monotonic() - started < 15
    row.refresh_from_db()
    assert row.next_check_at <= timezone.now()


def test_deliver_says_whether_the_message_went(broker_down):
    row = make_snapshot("p1", status="deleting")
    assert queue.deliver(queue.TRACK_TASK, {"snapshot_id": row.id}) is False


def test_deliver_sends_when_the_broker_answers(monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "send", lambda task, kwargs: sent.append((task, kwargs)))
    assert queue.deliver(queue.TRACK_TASK, {"snapshot_id": "x"}) is True
    assert sent == [(queue.TRACK_TASK, {"snapshot_id": "x"})]
