"""The audit chain is keyed: someone who can write to the database but does not hold the key
(settings, never the database) cannot edit, remove or rewrite events without verify_audit
naming them. Keys rotate. On PostgreSQL a trigger refuses UPDATE and DELETE outside the prune.
"""

from __future__ import annotations

import hashlib
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from snapshots.choices import Outcome
from snapshots.models import AuditEvent, StatusChange
from snapshots.models.audit import privileged_history_writes
from snapshots.services import audit, retention
from snapshots.tests.factories_audit import days_ago, event, make_scope, make_snapshot, move

pytestmark = pytest.mark.django_db
TABLE = AuditEvent._meta.db_table


def _write(n: int) -> list[AuditEvent]:
    scope = make_scope("member")
    return [
        audit.record(scope=scope, action="snapshot_edit", outcome=Outcome.SUCCESS, message=f"m{i}")
        for i in range(n)
    ]


def _plain_sha256(row: dict) -> str:
    """What an attacker without the key can compute: the chain's canonical form, sha256."""
    probe = AuditEvent(**row)
    probe.key_id = ""
    return hashlib.sha256(audit.canonical(probe)).hexdigest()


def _rewrite(from_id: int, *, edit: dict, drop_key: bool) -> None:
    """An attacker with database access: edit one row, then recompute every hash after it."""
    fields = [f.attname for f in AuditEvent._meta.concrete_fields]
    with privileged_history_writes(), connection.cursor() as cursor:
        prev = None
        for row in AuditEvent.objects.order_by("id").values(*fields):
            if row["id"] < from_id:
                prev = row["hash"]
                continue
            if row["id"] == from_id:
                row.update(edit)
            row["prev_hash"] = prev or ""
            if drop_key:
                row["key_id"] = ""
            row["hash"] = _plain_sha256(row)
            cursor.execute(
                f"UPDATE {TABLE} SET message = %s, outcome = %s, prev_hash = %s, hash = %s, "
                "key_id = %s WHERE id = %s",
                [
                    row["message"],
                    row["outcome"],
                    row["prev_hash"],
                    row["hash"],
                    row["key_id"],
                    row["id"],
                ],
            )
            prev = row["hash"]


def test_every_event_names_its_key_and_carries_an_hmac(settings):
    (one,) = _write(1)
    assert one.key_id == settings.AUDIT_HMAC_KEY_ID
    assert one.hash != hashlib.sha256(audit.canonical(one)).hexdigest()
    assert audit.verify_chain().ok


def test_an_edit_with_a_recomputed_plain_hash_chain_is_caught():
    events = _write(5)
    _rewrite(events[2].pk, edit={"outcome": Outcome.DENIED}, drop_key=False)
    report = audit.verify_chain()
    assert report.broken_id == events[2].pk
    assert "edited" in report.reason


def test_a_whole_chain_rewritten_in_plain_hashes_is_caught():
    events = _write(5)
    _rewrite(events[0].pk, edit={"message": "nothing happened"}, drop_key=True)
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == events[-1].pk
    assert "newest event has no key id" in report.reason
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_a_tail_rewritten_in_plain_hashes_is_caught():
    events = _write(5)
    _rewrite(events[3].pk, edit={"message": "x"}, drop_key=True)
    report = audit.verify_chain()
    assert report.broken_id == events[3].pk
    assert "no key id after keyed events" in report.reason


def test_keys_rotate_and_old_events_verify_with_their_retired_key(settings):
    settings.AUDIT_HMAC_KEYS = {"2026a": "first-secret"}
    settings.AUDIT_HMAC_KEY_ID = "2026a"
    old = _write(2)
    settings.AUDIT_HMAC_KEYS = {"2026a": "first-secret", "2027a": "second-secret"}
    settings.AUDIT_HMAC_KEY_ID = "2027a"
    new = _write(2)
    assert [e.key_id for e in old + new] == ["2026a", "2026a", "2027a", "2027a"]
    assert audit.verify_chain().ok
    settings.AUDIT_HMAC_KEYS = {"2027a": "second-secret"}  # the old key thrown away: unverifiable
    report = audit.verify_chain()
    assert report.broken_id == old[0].pk
    assert "2026a" in report.reason


def test_a_wrong_key_fails_verification(settings):
    _write(3)
    settings.AUDIT_HMAC_KEYS = {settings.AUDIT_HMAC_KEY_ID: "not-the-key"}
    assert not audit.verify_chain().ok


def test_events_from_before_keying_verify_once_a_keyed_event_follows(settings):
    prev = ""
    legacy = []
    for i in range(3):
        row = AuditEvent(
            created_at=days_ago(3 - i),
            actor_name="old",
            action="sync",
            outcome="success",
            message=f"legacy {i}",
            prev_hash=prev,
            key_id="",
        )
        row.hash = audit.compute_hash(row)
        row.save()
        legacy.append(row)
        prev = row.hash
    assert "newest event has no key id" in audit.verify_chain().reason
    # What the keying migration did on a database that had events before it (squashed since):
    # one keyed event follows the plain-hash events, pinning the last of them.
    keyed = AuditEvent(
        created_at=days_ago(0),
        actor_name=audit.SYSTEM_ACTOR,
        action=audit.KEYED_ACTION,
        outcome="success",
        message="Audit events from here on are signed with a key kept outside the database.",
        parameters={},
        prev_hash=prev,
        key_id=settings.AUDIT_HMAC_KEY_ID,
    )
    keyed.hash = audit.compute_hash(keyed)
    keyed.save(force_insert=True)
    marker = AuditEvent.objects.order_by("-id").first()
    assert marker.action == audit.KEYED_ACTION and marker.key_id == settings.AUDIT_HMAC_KEY_ID
    _write(1)
    assert audit.verify_chain().ok
    # The plain-hash prefix cannot be rewritten: the first keyed event pins its last hash.
    _rewrite(legacy[1].pk, edit={"message": "rewritten"}, drop_key=False)
    assert not audit.verify_chain().ok


def test_the_beat_logs_the_chain_head(caplog, settings):
    from snapshots import tasks

    assert any(
        entry["task"] == "snapshots.tasks.log_audit_head"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )
    events = _write(2)
    with caplog.at_level(logging.INFO, logger="snapshots.services.audit"):
        tasks.log_audit_head()
    assert f"audit chain head: #{events[-1].pk} {events[-1].hash}" in caplog.text


# --- PostgreSQL: the trigger ------------------------------------------------------------------


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL: run with DATABASE_URL=postgres://... (.ci/run does)")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET message = 'edited'",
        f"DELETE FROM {TABLE}",
        f"UPDATE {StatusChange._meta.db_table} SET to_status = 'error'",
        f"DELETE FROM {StatusChange._meta.db_table}",
    ],
)
def test_the_trigger_refuses_updates_and_deletes(postgresql, sql):
    _write(2)
    make_snapshot(status="creating", at=days_ago(3))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() >= 2


@pytest.mark.postgres
def test_the_prune_alone_gets_past_the_trigger(postgresql):
    member = make_scope("member")
    snap = make_snapshot(status="creating", at=days_ago(300))
    move(snap, "available", days_ago(299))
    for d in (300, 200, 5):
        event(member, target=snap, created_at=days_ago(d))
    result = retention.prune_history(older_than_days=100)
    assert result.audit_events == 2 and result.status_changes == 2
    assert audit.verify_chain().ok
    # Lifted for the prune's transaction only.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {TABLE}")
