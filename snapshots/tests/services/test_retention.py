"""prune_history(): removes only what is older than the cutoff, audits itself, keeps the chain
verifiable, and is the only way history rows go away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from snapshots.choices import Outcome
from snapshots.models import AppendOnlyError, AuditEvent, Snapshot, StatusChange
from snapshots.services import audit, retention
from snapshots.tests.factories_audit import days_ago, event, gone, make_scope, make_snapshot, move

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Old and recent history: a snapshot gone 200 days ago, one alive, events at both ages."""
    member = make_scope("member")
    old = make_snapshot(status="creating", at=days_ago(300))
    move(old, "available", days_ago(299))
    gone(old, days_ago(200))
    alive = make_snapshot(status="creating", at=days_ago(150))
    move(alive, "available", days_ago(10))
    old_events = [
        event(member, target=old, created_at=days_ago(d)) for d in (300, 250, 200, 120, 101)
    ]
    new_events = [event(member, target=alive, created_at=days_ago(d)) for d in (50, 5)]
    return {"old": old, "alive": alive, "old_events": old_events, "new_events": new_events}


def test_prune_removes_only_history_older_than_the_cutoff(history):
    result = retention.prune_history(older_than_days=100)
    assert result.status_changes == 4  # old: creating, available, deleted; alive: creating
    assert result.audit_events == 5
    assert result.snapshots == 1
    assert not Snapshot.objects.filter(pk=history["old"].pk).exists()
    kept = list(StatusChange.objects.values_list("snapshot_id", "to_status"))
    assert kept == [(history["alive"].pk, "available")]
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert {e.pk for e in history["new_events"]} <= remaining
    assert not remaining & {e.pk for e in history["old_events"]}


def test_prune_is_audited_and_records_the_anchor(history):
    result = retention.prune_history(older_than_days=100, actor_name="ops")
    prune = AuditEvent.objects.get(pk=result.event_id)
    first_kept = history["new_events"][0]
    assert (prune.action, prune.outcome, prune.actor_name) == (
        audit.PRUNE_ACTION,
        Outcome.SUCCESS,
        "ops",
    )
    assert prune.parameters["anchor_id"] == first_kept.pk == result.anchor_id
    assert prune.parameters["anchor_prev_hash"] == first_kept.prev_hash
    assert prune.parameters["audit_events_deleted"] == 5
    assert prune.prev_hash == history["new_events"][-1].hash


def test_chain_verifies_after_a_prune(history):
    assert audit.verify_chain().ok
    retention.prune_history(older_than_days=100)
    report = audit.verify_chain()
    assert report.ok, report
    assert report.anchor_id == history["new_events"][0].pk
    assert report.checked == 3  # two kept events and the prune's own


def test_chain_verifies_after_two_prunes(history):
    retention.prune_history(older_than_days=100)
    retention.prune_history(older_than_days=20)
    report = audit.verify_chain()
    assert report.ok, report
    assert report.anchor_id == history["new_events"][1].pk


def test_tampering_after_a_prune_is_still_detected(history):
    retention.prune_history(older_than_days=100)
    first_kept = history["new_events"][0]
    from django.db import connection

    from snapshots.models.audit import privileged_history_writes

    with privileged_history_writes(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s",
            [first_kept.pk],
        )
    report = audit.verify_chain()
    assert report.broken_id == history["new_events"][1].pk


def test_prune_never_removes_the_newest_event_so_the_chain_keeps_its_head():
    member = make_scope("member")
    events = [event(member, created_at=days_ago(d)) for d in (40, 30)]
    result = retention.prune_history(older_than_days=7)
    assert result.audit_events == 1
    assert list(AuditEvent.objects.order_by("id").values_list("pk", flat=True)) == [
        events[1].pk,
        result.event_id,
    ]
    assert audit.verify_chain().ok


def test_prune_with_nothing_old_removes_nothing_and_still_verifies():
    member = make_scope("member")
    event(member)
    result = retention.prune_history(older_than_days=30)
    assert (result.status_changes, result.audit_events, result.snapshots) == (0, 0, 0)
    prune = AuditEvent.objects.get(pk=result.event_id)
    assert "anchor_id" not in prune.parameters
    assert audit.verify_chain().ok


def test_deleted_snapshot_named_by_a_kept_event_stays_in_the_mirror():
    member = make_scope("member")
    snap = make_snapshot(at=days_ago(300))
    gone(snap, days_ago(200))
    event(member, target=snap, action="snapshot_delete", created_at=days_ago(2))
    result = retention.prune_history(older_than_days=100)
    assert result.snapshots == 0
    assert Snapshot.objects.filter(pk=snap.pk).exists()
    assert not StatusChange.objects.filter(snapshot_id=snap.pk).exists()


def test_dry_run_counts_without_removing(history):
    before = (AuditEvent.objects.count(), StatusChange.objects.count(), Snapshot.objects.count())
    result = retention.prune_history(older_than_days=100, dry_run=True)
    assert (result.status_changes, result.audit_events, result.snapshots) == (4, 5, 1)
    assert result.event_id is None
    after = (AuditEvent.objects.count(), StatusChange.objects.count(), Snapshot.objects.count())
    assert after == before


def test_history_rows_cannot_be_deleted_outside_retention(history):
    with pytest.raises(AppendOnlyError):
        StatusChange.objects.filter(observed_at__lt=timezone.now()).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        history["old_events"][0].delete()


def test_prune_refuses_a_zero_age():
    with pytest.raises(ValueError):
        retention.prune_history(older_than_days=0)


def test_command_uses_the_retention_setting_by_default(history, settings, capsys):
    settings.HISTORY_RETENTION_DAYS = 100
    call_command("prune_history")
    out = capsys.readouterr().out
    assert "Removed 4 status changes, 5 audit events and 1 deleted snapshots" in out
    prune = AuditEvent.objects.get(action=audit.PRUNE_ACTION)
    assert prune.parameters["older_than_days"] == 100
    assert prune.actor_name == "manage.py prune_history"
    call_command("verify_audit")
    assert "Audit chain OK" in capsys.readouterr().out


def test_command_older_than_and_dry_run(history, capsys):
    call_command("prune_history", "--older-than", "260", "--dry-run")
    assert "Would remove 2 status changes, 1 audit events" in capsys.readouterr().out
    assert not AuditEvent.objects.filter(action=audit.PRUNE_ACTION).exists()
    call_command("prune_history", "--older-than", "260")
    cutoff = timezone.now() - timedelta(days=260)
    assert not StatusChange.objects.filter(observed_at__lt=cutoff).exists()
    assert StatusChange.objects.count() == 3  # five written, the two oldest removed
