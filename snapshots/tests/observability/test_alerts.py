"""Alert rules driven through the simulator: each fires once and resolves once, by e-mail
(locmem) and by signed webhook to a local HTTP server; digests; a receiver that is down is
retried with back-off and then shown as failed; two workers on one tick send nothing twice."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from snapshots.cloud import errors
from snapshots.models import AlertDelivery, AlertFiring, AuditEvent, Snapshot
from snapshots.models.audit import privileged_history_writes
from snapshots.observability import alert_delivery, alert_engine, tasks
from snapshots.services import audit, sync
from snapshots.tests.factories_audit import event, make_snapshot
from snapshots.tests.observability.alert_helpers import make_rule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_RETRY_BASE = 30
    settings.ALERT_MAX_ATTEMPTS = 3


def tick(now=None):
    """What the evaluate task does, then every due delivery sent at once."""
    now = now or timezone.now()
    result = alert_engine.evaluate(now)
    states = [alert_delivery.send(i, now) for i in alert_delivery.due(now)]
    return result, states


def events_of(receiver) -> list[tuple[str, str]]:
    return [(r.json["event"], r.json["subject"]) for r in receiver.requests]


def create_in_cloud(cloud, name: str) -> dict:
    """A snapshot made through Cinder's API (it moves with the simulator's clock)."""
    from snapshots.cloud.credentials import service_gateway
    from snapshots.tests.actions_helpers import volumes_of

    volume = volumes_of(cloud)["db-replica"]["id"]
    return {"id": service_gateway().create_snapshot(volume_id=volume, name=name).id}


def check_signature(received) -> None:
    expected = "sha256=" + hmac.new(b"s3cret", received.body, hashlib.sha256).hexdigest()
    assert received.headers["X-Dashboard-Signature"] == expected


def test_stuck_rule_fires_once_and_resolves_once(cloud, receiver):
    rule = make_rule("stuck", threshold=20, webhook_url=receiver.url, emails="ops@example.org")
    cloud.faults(stuck=["creating"])
    made = create_in_cloud(cloud, "slow-one")
    sync.sync_snapshots()
    snap = Snapshot.objects.get(pk=made["id"])
    Snapshot.objects.filter(pk=snap.pk).update(status_since=timezone.now() - timedelta(minutes=25))
    # other transitional snapshots of the demo cloud are younger than 20 minutes
    Snapshot.objects.exclude(pk=snap.pk).update(status_since=timezone.now())

    tick()
    tick()
    assert events_of(receiver) == [("firing", snap.id)]
    check_signature(receiver.requests[0])
    assert receiver.requests[0].json["rule"] == rule.name
    assert "slow-one" in receiver.requests[0].json["message"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.org"]
    assert "FIRING" in mail.outbox[0].subject

    cloud.clear_faults()
    cloud.advance(10)
    Snapshot.objects.filter(pk=snap.pk).update(next_check_at=timezone.now())
    sync.track_snapshots()
    assert Snapshot.objects.get(pk=snap.pk).status == "available"
    tick()
    tick()
    assert events_of(receiver) == [("firing", snap.id), ("resolved", snap.id)]
    check_signature(receiver.requests[1])
    assert len(mail.outbox) == 2 and "RESOLVED" in mail.outbox[1].subject
    assert AlertDelivery.objects.filter(state="sent").count() == 4


def test_error_rule_fires_for_a_snapshot_entering_error_after_the_rule(cloud, receiver):
    sync.sync_snapshots()  # the demo cloud's old errors are not news
    make_rule("error", webhook_url=receiver.url)
    tick()
    assert receiver.requests == []

    cloud.faults(create_error_rate=1.0)
    made = create_in_cloud(cloud, "doomed")
    cloud.clear_faults()
    sync.sync_snapshots()
    cloud.advance(10)
    Snapshot.objects.filter(pk=made["id"]).update(next_check_at=timezone.now())
    sync.track_snapshots()
    assert Snapshot.objects.get(pk=made["id"]).status == "error"
    tick()
    tick()
    assert events_of(receiver) == [("firing", made["id"])]

    Snapshot.objects.filter(pk=made["id"]).update(status="available")  # reset by an admin
    tick()
    tick()
    assert events_of(receiver) == [("firing", made["id"]), ("resolved", made["id"])]


def test_quota_rule_reads_the_mirrored_limits(cloud, receiver, settings):
    from snapshots.services.sync import sync_snapshots
    from snapshots.tasks import refresh_quotas

    settings.QUOTA_MAX_AGE = 0  # each tick reads every project: the limits set below show

    sync_snapshots()  # the projects whose quota the workers read
    make_rule("quota", threshold=80, webhook_url=receiver.url)
    refresh_quotas()
    tick()
    assert receiver.requests == []  # the demo quota is far away

    from snapshots.models import ProjectQuota

    row = ProjectQuota.objects.get(project_id=cloud.project_id("alpha"))
    cloud.set_quota("alpha", snapshots=max(1, row.snapshots_used))  # 100 % used
    refresh_quotas()
    tick()
    tick()
    assert events_of(receiver) == [("firing", cloud.project_id("alpha"))]
    assert "100 %" in receiver.requests[0].json["message"]

    cloud.set_quota("alpha", snapshots=row.snapshots_used * 10 + 10)
    refresh_quotas()
    tick()
    assert events_of(receiver)[-1] == ("resolved", cloud.project_id("alpha"))
    assert len(receiver.requests) == 2


def test_cloud_down_rule_waits_n_minutes_then_fires_and_resolves(cloud, receiver):
    make_rule("cloud_down", threshold=5, webhook_url=receiver.url)
    cloud.faults(cinder_down=True)
    with pytest.raises(errors.CloudError):
        sync.sync_snapshots()
    t0 = timezone.now()
    tick(t0)
    tick(t0 + timedelta(minutes=4))
    assert receiver.requests == []  # not yet five minutes
    tick(t0 + timedelta(minutes=5, seconds=1))
    tick(t0 + timedelta(minutes=6))
    assert events_of(receiver) == [("firing", "cloud")]

    cloud.clear_faults()
    sync.sync_snapshots()
    tick(t0 + timedelta(minutes=7))
    tick(t0 + timedelta(minutes=8))
    assert events_of(receiver) == [("firing", "cloud"), ("resolved", "cloud")]


def test_a_short_outage_is_never_notified(cloud, receiver):
    make_rule("cloud_down", threshold=5, webhook_url=receiver.url)
    cloud.faults(cinder_down=True)
    with pytest.raises(errors.CloudError):
        sync.sync_snapshots()
    tick()
    cloud.clear_faults()
    sync.sync_snapshots()
    tick()
    assert receiver.requests == []
    assert AlertFiring.objects.get().resolved_at is not None


def test_audit_chain_rule(receiver, settings):
    settings.ALERT_AUDIT_CHAIN_INTERVAL = 0  # verify on every tick
    make_rule("audit_chain", webhook_url=receiver.url)
    for _ in range(3):
        event()
    tick()
    assert receiver.requests == []
    victim = AuditEvent.objects.order_by("id")[1]
    # someone with database access (who can lift the PostgreSQL trigger too)
    with privileged_history_writes(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET message = %s WHERE id = %s",
            ["edited behind the dashboard's back", victim.id],
        )
    assert not audit.verify_chain().ok
    tick()
    tick()
    assert events_of(receiver) == [("firing", "audit-chain")]
    assert f"#{victim.id}" in receiver.requests[0].json["message"]


def test_audit_chain_verdict_is_kept_for_its_interval(settings):
    from django.core.cache import cache

    settings.ALERT_AUDIT_CHAIN_INTERVAL = 900
    rule = make_rule("audit_chain", emails="ops@example.org")
    event()
    now = timezone.now()
    assert alert_engine.observe(rule, now).breaches == {}
    victim = AuditEvent.objects.get()
    # someone with database access (who can lift the PostgreSQL trigger too)
    with privileged_history_writes(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET message = %s WHERE id = %s",
            ["edited", victim.id],
        )
    assert alert_engine.observe(rule, now).breaches == {}  # the kept verdict
    cache.clear()  # the interval is over
    assert set(alert_engine.observe(rule, now).breaches) == {"audit-chain"}


def test_digest_sends_one_message_per_period(receiver):
    t0 = timezone.now()
    rule = make_rule("error", webhook_url=receiver.url, digest_minutes=10, emails="a@example.org")
    type(rule).objects.filter(pk=rule.pk).update(created_at=t0)  # the first period starts here
    first = make_snapshot(status="error", at=t0)
    second = make_snapshot(status="error", at=t0)
    tick(t0 + timedelta(minutes=1))
    assert receiver.requests == [] and mail.outbox == []  # digest: nothing until the period ends
    Snapshot.objects.filter(pk=first.pk).update(status="available")
    tick(t0 + timedelta(minutes=5))
    tick(t0 + timedelta(minutes=9, seconds=59))
    assert receiver.requests == []
    tick(t0 + timedelta(minutes=10))
    tick(t0 + timedelta(minutes=11))
    assert len(receiver.requests) == 1 and len(mail.outbox) == 1
    digest = receiver.requests[0].json
    assert digest["event"] == "digest"
    assert sorted((e["event"], e["subject"]) for e in digest["events"]) == sorted(
        [("firing", first.id), ("firing", second.id), ("resolved", first.id)]
    )
    check_signature(receiver.requests[0])
    assert "3 events" in mail.outbox[0].subject
    tick(t0 + timedelta(minutes=25))  # a quiet period sends nothing
    assert len(receiver.requests) == 1


def test_a_receiver_that_is_down_is_retried_with_backoff_then_failed(receiver, settings):
    receiver.status = 503
    make_rule("error", webhook_url=receiver.url)
    t0 = timezone.now()
    make_snapshot(status="error", at=t0)
    _, states = tick(t0)
    assert states == ["retrying"]
    delivery = AlertDelivery.objects.get()
    assert (delivery.attempts, delivery.last_error) == (1, "HTTP 503")
    assert delivery.next_attempt_at == t0 + timedelta(seconds=30)
    assert tick(t0 + timedelta(seconds=29))[1] == []  # back-off not over
    assert tick(t0 + timedelta(seconds=30))[1] == ["retrying"]
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == t0 + timedelta(seconds=30 + 60)
    assert tick(t0 + timedelta(seconds=90))[1] == ["failed"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert len(receiver.requests) == 3
    assert tick(t0 + timedelta(hours=1))[1] == []  # failed is final


def test_a_receiver_back_up_gets_the_retry(receiver):
    receiver.status = 500
    make_rule("error", webhook_url=receiver.url)
    t0 = timezone.now() + timedelta(seconds=1)
    make_snapshot(status="error", at=t0)
    assert tick(t0)[1] == ["retrying"]
    receiver.status = 204
    assert tick(t0 + timedelta(seconds=30))[1] == ["sent"]
    assert len(receiver.requests) == 2
    # the same delivery both times: a receiver can drop the repeat by this header
    keys = {r.headers["X-Dashboard-Delivery"] for r in receiver.requests}
    assert len(keys) == 1


def test_two_workers_on_the_same_tick_send_nothing_twice(receiver):
    rule = make_rule("error", webhook_url=receiver.url, emails="ops@example.org")
    now = timezone.now() + timedelta(seconds=1)
    snap = make_snapshot(status="error", at=now)
    # Both workers observe before either applies: neither sees the other's firing.
    seen_a = alert_engine.observe(rule, now)
    seen_b = alert_engine.observe(rule, now)
    queued_a = alert_engine.apply(seen_a).deliveries
    queued_b = alert_engine.apply(seen_b).deliveries
    assert len(queued_a) == 2 and queued_b == []
    assert AlertFiring.objects.count() == 1
    # Both try to send each delivery: one claim wins.
    for delivery_id in queued_a:
        results = [alert_delivery.send(delivery_id, now), alert_delivery.send(delivery_id, now)]
        assert sorted(results) == ["not due", "sent"]
    assert len(receiver.requests) == 1 and len(mail.outbox) == 1

    Snapshot.objects.filter(pk=snap.pk).update(status="available")
    later = now + timedelta(minutes=1)
    seen_a = alert_engine.observe(rule, later)
    seen_b = alert_engine.observe(rule, later)
    resolved = alert_engine.apply(seen_a).deliveries + alert_engine.apply(seen_b).deliveries
    assert len(resolved) == 2
    for delivery_id in alert_delivery.due(later):
        alert_delivery.send(delivery_id, later)
    assert events_of(receiver) == [("firing", snap.id), ("resolved", snap.id)]


def test_the_evaluate_task_queues_the_due_deliveries(receiver, enqueued):
    make_rule("error", webhook_url=receiver.url)
    make_snapshot(status="error", at=timezone.now() + timedelta(seconds=1))
    summary = tasks.evaluate_alerts()
    assert "1 fired" in summary
    assert [name for name, _ in enqueued] == [tasks.DELIVER_TASK]
    for _name, kwargs in enqueued:
        assert tasks.deliver_alert(**kwargs) == "sent"
    assert len(receiver.requests) == 1


def test_real_smtp_to_a_local_server(settings):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.ALERT_EMAIL_FROM = "alerts@example.org"
        make_rule("error", emails="oncall@example.org")
        snap = make_snapshot(status="error", at=timezone.now() + timedelta(seconds=1))
        _, states = tick(timezone.now() + timedelta(seconds=2))
    finally:
        controller.stop()
    assert states == ["sent"]
    assert len(received) == 1
    assert received[0].rcpt_tos == ["oncall@example.org"]
    assert received[0].mail_from == "alerts@example.org"
    text = received[0].content.decode()
    assert "FIRING" in text and snap.id in text
