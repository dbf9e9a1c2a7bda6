"""/healthz (liveness) and /readyz (database, broker, cloud, heartbeats, listener), the
heartbeat ticks of the worker and the beat, and the stale-worker notice on the overview."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from snapshots.models import CloudState, Heartbeat
from snapshots.observability import heartbeats, tasks

pytestmark = pytest.mark.django_db


def readyz(client, **extra):
    response = client.get("/readyz", **extra)
    return response.status_code, json.loads(response.content)


def fresh(name: str, seconds_ago: float = 0) -> None:
    heartbeats.record(name, now=timezone.now() - timedelta(seconds=seconds_ago))


def test_healthz_is_liveness_only_and_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "alive"}


def test_healthz_answers_with_the_database_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(connection, "cursor", broken)
    assert client.get("/healthz").status_code == 200
    status, body = readyz(client)
    assert status == 503
    assert body["checks"]["database"]["ok"] is False


def test_probes_answer_for_any_host_name(client, settings):
    settings.ALLOWED_HOSTS = ["dashboard.example.org"]
    # A pod's address is not in ALLOWED_HOSTS; the probe must still get an answer.
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    status, _ = readyz(client, HTTP_HOST="10.1.2.3:8000")
    assert status == 200
    assert client.get("/snapshots/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_readyz_reports_every_check_and_is_ready_with_database_and_broker(client):
    fresh(heartbeats.WORKER)
    fresh(heartbeats.BEAT)
    CloudState.objects.create(id=1, reachable=True)
    status, body = readyz(client)
    assert status == 200
    assert body["status"] == "ready"
    checks = body["checks"]
    assert {k: v["ok"] for k, v in checks.items()} == {
        "database": True,
        "broker": True,
        "cloud": True,
        "worker": True,
        "beat": True,
        "listener": True,
    }
    assert checks["listener"]["configured"] is False


def test_a_broker_that_does_not_answer_makes_it_not_ready(client, settings, monkeypatch):
    from dashboard.celery import app

    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets it).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    # A port nothing listens on: the check gives up after its short timeout.
    original = app.conf.broker_url, app.conf.broker_transport
    app.conf.broker_url, app.conf.broker_transport = "redis://127.0.0.1:1/0", None
    settings.READYZ_BROKER_TIMEOUT = 0.5
    try:
        status, body = readyz(client)
    finally:
        app.conf.broker_url, app.conf.broker_transport = original
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_stale_worker_and_beat_are_reported_and_required_only_when_configured(client, settings):
    settings.HEARTBEAT_INTERVAL = 30
    fresh(heartbeats.WORKER, seconds_ago=61)  # older than two periods
    fresh(heartbeats.BEAT, seconds_ago=59)
    CloudState.objects.create(id=1, reachable=False)
    status, body = readyz(client)
    assert status == 200  # only database and broker are required by default
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["beat"]["ok"] is True
    assert body["checks"]["cloud"]["ok"] is False

    settings.READYZ_REQUIRED = ["database", "broker", "worker"]
    status, body = readyz(client)
    assert status == 503
    assert body["status"] == "not ready"


def test_listener_check_reads_its_heartbeat_when_a_listener_is_configured(client, settings):
    settings.LISTENER_HEARTBEAT_INTERVAL = 10
    settings.READYZ_REQUIRED = ["database", "listener"]
    status, body = readyz(client)
    assert status == 503
    assert body["checks"]["listener"] == {
        "name": "listener",
        "ok": False,
        "detail": "no heartbeat yet",
        "configured": True,
    }
    fresh(heartbeats.LISTENER, seconds_ago=5)
    status, body = readyz(client)
    assert status == 200
    fresh(heartbeats.LISTENER, seconds_ago=21)
    assert readyz(client)[0] == 503


def test_the_heartbeat_task_ticks_the_worker_and_publishing_it_ticks_the_beat():
    assert not Heartbeat.objects.exists()
    tasks.heartbeat()
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"worker"}
    # What celery's before_task_publish sends when the beat publishes the task.
    tasks._beat_ticked(sender="snapshots.tasks.track")
    assert not Heartbeat.objects.filter(name="beat").exists()
    tasks._beat_ticked(sender=tasks.HEARTBEAT_TASK)
    beat = Heartbeat.objects.get(name="beat")
    assert (timezone.now() - beat.beat_at).total_seconds() < 5
    assert "pid" in beat.detail


def test_the_heartbeat_is_scheduled_every_period(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == tasks.HEARTBEAT_TASK
    assert entry["schedule"] == settings.HEARTBEAT_INTERVAL


def test_overview_names_a_stale_worker(login, settings):
    settings.HEARTBEAT_INTERVAL = 30
    fresh(heartbeats.WORKER, seconds_ago=600)
    fresh(heartbeats.BEAT, seconds_ago=1)
    content = login("admin").get("/snapshots/overview/").content.decode()
    assert 'id="stale-heartbeats"' in content
    assert "the worker last ticked 10" in content
    assert "the beat" not in content

    fresh(heartbeats.WORKER)
    content = login("admin").get("/snapshots/overview/").content.decode()
    assert 'id="stale-heartbeats"' not in content


def test_check_heartbeat_command_exits_1_when_stale(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.HEARTBEAT_INTERVAL = 30
    with pytest.raises(CommandError, match="no heartbeat yet"):
        call_command("check_heartbeat", "beat")
    fresh(heartbeats.BEAT, seconds_ago=70)
    with pytest.raises(CommandError, match="stale"):
        call_command("check_heartbeat", "beat")
    fresh(heartbeats.BEAT, seconds_ago=5)
    call_command("check_heartbeat", "beat")
