"""audit.record(): what it stores, the hash chain it extends, and what verification catches."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from snapshots.choices import Outcome
from snapshots.cloud.errors import Conflict, Unavailable
from snapshots.models import AppendOnlyError, AuditEvent
from snapshots.models.audit import privileged_history_writes
from snapshots.services import audit
from snapshots.tests.factories_audit import make_scope

pytestmark = pytest.mark.django_db


def _write(n: int, **kwargs) -> list[AuditEvent]:
    scope = make_scope("member")
    return [
        audit.record(
            scope=scope, action="snapshot_edit", outcome=Outcome.SUCCESS, message=f"m{i}", **kwargs
        )
        for i in range(n)
    ]


def _raw(sql: str, params: list) -> None:
    """Change the table behind the application's back, as someone with database access would
    (they can lift the PostgreSQL trigger too; the chain must catch them anyway)."""
    with privileged_history_writes(), connection.cursor() as cursor:
        cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)


def test_record_stores_who_what_and_the_cloud_error():
    scope = make_scope("member", username="alice")
    error = Conflict("snapshot is busy", request_id="req-123")
    event = audit.record(
        scope=scope,
        action="snapshot_delete",
        outcome=audit.outcome_of(error),
        target_id="snap-1",
        target_name="x" * 300,
        parameters={"force": True},
        error=error,
        client_addr="192.0.2.7",
    )
    event.refresh_from_db()
    assert (event.actor_name, event.actor_id, event.project_id) == ("alice", "u-alice", "p-alpha")
    assert event.outcome == Outcome.REFUSED
    assert (event.status_code, event.request_id, event.message) == (
        409,
        "req-123",
        "snapshot is busy",
    )
    assert len(event.target_name) == 255
    assert event.parameters == {"force": True}
    assert audit.outcome_of(Unavailable("down")) == Outcome.FAILED
    assert audit.outcome_of(None) == Outcome.SUCCESS


def test_system_events_have_the_system_actor():
    event = audit.record(scope=None, action="sync", outcome=Outcome.SUCCESS)
    assert event.actor_name == audit.SYSTEM_ACTOR
    assert event.actor_id == ""


def test_each_event_links_to_the_one_before():
    events = _write(4)
    assert events[0].prev_hash == ""
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in events}) == 4


def test_hash_matches_the_row_as_read_back():
    """Values the database normalises (IPv6, unicode, nested JSON) hash the same when re-read."""
    event = audit.record(
        scope=make_scope("admin"),
        action="snapshot_create",
        outcome=Outcome.SUCCESS,
        target_name="名前 <b>&amp;",
        parameters={"b": [1, 2.5, None], "a": {"z": "é"}},
        client_addr="2001:0db8:0000:0000:0000:0000:0000:0001",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.client_addr == "2001:db8::1"
    assert audit.compute_hash(stored) == stored.hash == event.hash


def test_rows_cannot_be_changed_through_the_orm():
    (event,) = _write(1)
    event.message = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(message="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_an_intact_chain_verifies():
    _write(5)
    report = audit.verify_chain()
    assert report.ok
    assert report.checked == 5


def test_an_empty_chain_verifies():
    report = audit.verify_chain()
    assert report.ok and report.checked == 0


def test_an_edited_row_is_named():
    events = _write(5)
    _raw("UPDATE {table} SET message = %s WHERE id = %s", ["nothing happened", events[2].pk])
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == events[2].pk
    assert report.checked == 2
    assert "edited" in report.reason


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link():
    events = _write(4)
    row = AuditEvent.objects.get(pk=events[1].pk)
    row.outcome = Outcome.DENIED
    _raw(
        "UPDATE {table} SET outcome = %s, hash = %s WHERE id = %s",
        [Outcome.DENIED, audit.compute_hash(row), row.pk],
    )
    report = audit.verify_chain()
    assert report.broken_id == events[2].pk
    assert f"#{events[1].pk}" in report.reason


@pytest.mark.parametrize(
    ("written", "removed", "reason"),
    [(4, 1, "#{events[0].pk}"), (3, 0, "no prune")],
    ids=["a_removed_row_is_named_by_its_successor", "removing_the_oldest_without_a_prune"],
)
def test_a_removed_row_breaks_the_chain_at_the_next_one(written, removed, reason):
    events = _write(written)
    _raw("DELETE FROM {table} WHERE id = %s", [events[removed].pk])
    report = audit.verify_chain()
    assert report.broken_id == events[removed + 1].pk
    assert reason.format(events=events) in report.reason


def test_verify_audit_command_passes_on_an_intact_chain(capsys):
    _write(3)
    call_command("verify_audit")
    assert "Audit chain OK: 3 events verified" in capsys.readouterr().out


def test_verify_audit_command_exits_1_and_names_the_broken_event():
    events = _write(3)
    _raw("UPDATE {table} SET actor_name = %s WHERE id = %s", ["mallory", events[1].pk])
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert failure.value.returncode == 1
    assert f"event #{events[1].pk}" in str(failure.value)
    assert "by mallory" in str(failure.value)


WRITER = """
import sys, django
django.setup()
from snapshots.services import audit
for i in range(int(sys.argv[2])):
    audit.record(scope=None, action="sync", outcome="success", message=f"{sys.argv[1]}-{i}")
"""


def _database_url(tmp_path) -> str:
    """A database several processes can share: a fresh SQLite file (migrated here), or on
    PostgreSQL the test database itself."""
    if connection.vendor != "sqlite":
        db = connection.settings_dict
        return (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    url = f"sqlite:///{tmp_path / 'chain.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        env={**os.environ, "DATABASE_URL": url},
        cwd=settings.BASE_DIR,
        check=True,
        timeout=120,
    )
    return url


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_separate_processes_do_not_fork_the_chain(tmp_path):
    """Several processes writing at once (web and workers) still build one unbroken chain."""
    url = _database_url(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "dashboard.settings"}
    per_process, processes = 25, 3
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"w{n}", str(per_process)],
            env=env,
            cwd=settings.BASE_DIR,
            stderr=subprocess.PIPE,
        )
        for n in range(processes)
    ]
    for proc in writers:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    check = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{per_process * processes} events verified" in check.stdout
