"""The admin repairs and the bulk actions against the simulator."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.models import AuditEvent, Snapshot
from snapshots.services import idempotency, mirror
from snapshots.services.snapshot_bulk import (
    snapshots_delete,
    snapshots_force_delete,
    snapshots_reset_status,
)
from snapshots.services.snapshot_delete import snapshot_force_delete
from snapshots.services.snapshot_repair import snapshot_reset_status, snapshot_set_status
from snapshots.services.snapshots import ActionRefused
from snapshots.tests.actions_helpers import (
    actor,
    cinder_calls,
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
    pick,
    sim_snapshot,
)


@pytest.mark.parametrize(
    "call",
    [
        lambda a, sid: snapshot_force_delete(caller=a.caller(), snapshot_id=sid),
        lambda a, sid: a.run(
            snapshot_reset_status, snapshot_id=sid, status="available", reason="x"
        ),
        lambda a, sid: a.run(
            snapshot_set_status, snapshot_id=sid, status="error_deleting", progress=None
        ),
        lambda a, sid: snapshots_force_delete(caller=a.caller(), snapshot_ids=[sid]),
        lambda a, sid: a.run(
            snapshots_reset_status, snapshot_ids=[sid], status="available", reason="x"
        ),
    ],
    ids=["force_delete", "reset", "set_status", "bulk_force_delete", "bulk_reset"],
)
def test_member_gets_403_and_nothing_reaches_cinder(mirrored, call):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "deleting")
    mirrored.reset_stats()
    with pytest.raises(PermissionDenied):
        call(demo, snap.id)
    assert cinder_calls(mirrored) == 0
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == 1
    assert Snapshot.objects.get(pk=snap.id).status == "deleting"


def test_force_delete_of_error_deleting_snapshot(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    snap = pick(mirrored.project_id("beta"), "error_deleting")
    row = snapshot_force_delete(
        caller=admin.caller(client_addr="::1"), snapshot_id=snap.id
    ).snapshot
    assert row.status == "deleting"
    event = AuditEvent.objects.get(action="force_delete_snapshot")
    assert (event.outcome, event.parameters["status"]) == (Outcome.SUCCESS, "error_deleting")
    mirrored.advance(5)
    assert sim_snapshot(mirrored, snap.id, project="beta") is None


def test_reset_needs_a_reason_and_records_it(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    snap = make_snapshot(mirrored, "alpha", "error_deleting")
    with pytest.raises(ActionRefused, match="reason"):
        admin.run(snapshot_reset_status, snapshot_id=snap.id, status="available", reason="  ")
    row = admin.run(
        snapshot_reset_status,
        snapshot_id=snap.id,
        status="available",
        reason="backend copy checked by hand, ticket 42",
    ).snapshot
    assert row.status == "available"
    assert sim_snapshot(mirrored, snap.id)["status"] == "available"
    event = AuditEvent.objects.filter(action="reset_snapshot_status").order_by("-id").first()
    assert event.outcome == Outcome.SUCCESS
    assert event.parameters == {
        "status": "available",
        "previous_status": "error_deleting",
        "reason": "backend copy checked by hand, ticket 42",
    }


def test_reset_clears_the_stuck_flag(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    snap = pick(mirrored.project_id("alpha"), "creating")
    Snapshot.objects.filter(pk=snap.id).update(stuck_since=snap.status_since)
    row = admin.run(
        snapshot_reset_status, snapshot_id=snap.id, status="error", reason="stuck for hours"
    ).snapshot
    assert (row.status, row.stuck_since) == ("error", None)


def test_set_status_follows_cinders_transitions(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    creating = pick(mirrored.project_id("alpha"), "creating")
    row = admin.run(
        snapshot_set_status, snapshot_id=creating.id, status="available", progress=100
    ).snapshot
    assert (row.status, row.progress) == ("available", 100)
    mirrored.reset_stats()
    with pytest.raises(ActionRefused, match="only from creating or deleting"):
        admin.run(snapshot_set_status, snapshot_id=creating.id, status="error", progress=None)
    assert cinder_calls(mirrored) == 0


def test_set_status_on_a_stale_mirror_is_refused_by_cinder(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    stale = dataclasses.replace(admin.gateway.get_snapshot(snap.id), status="creating")
    mirror.apply(stale, source=ChangeSource.SYNC)
    with pytest.raises(errors.BadRequest, match="not allowed"):
        admin.run(snapshot_set_status, snapshot_id=snap.id, status="available", progress=50)
    assert Snapshot.objects.get(pk=snap.id).status == "creating"


def test_bulk_delete_reports_each_snapshot(mirrored):
    """Three go, one is refused by Cinder (stale mirror), one is not even sent (creating)."""
    demo = actor(mirrored, "demo", "alpha")
    alpha = mirrored.project_id("alpha")
    available = list(
        Snapshot.objects.live().filter(project_id=alpha, status="available").order_by("id")[:4]
    )
    stale_snap = available[3]
    # Cinder moves it to creating behind the mirror's back.
    admin = actor(mirrored, "admin", "alpha")
    admin.gateway.reset_snapshot_status(stale_snap.id, "creating")
    creating = pick(alpha, "creating")
    ids = [s.id for s in available] + [creating.id]
    key = idempotency.new_key()
    result = demo.run(snapshots_delete, snapshot_ids=ids, idempotency_key=key)
    assert [i.outcome for i in result.items] == [
        "success",
        "success",
        "success",
        "refused",
        "denied",
    ]
    summary = result.summary()
    assert summary.startswith("3 of 5 deleted; 1 refused: ")
    assert stale_snap.name in summary and "must be available or error" in summary
    assert "1 skipped: " in summary and "creating" in summary
    assert {sim_snapshot(mirrored, s.id)["status"] for s in available[:3]} == {"deleting"}
    # The same form again: the same report, no new call.
    mirrored.reset_stats()
    again = demo.run(snapshots_delete, snapshot_ids=ids, idempotency_key=key)
    assert again.summary() == summary
    assert cinder_calls(mirrored) == 0


def test_bulk_stops_calling_when_the_cloud_is_down(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    ids = [make_snapshot(mirrored, p, "error_deleting").id for p in ("alpha", "beta")]
    mirrored.faults(cinder_down=True)
    mirrored.reset_stats()
    result = snapshots_force_delete(caller=admin.caller(), snapshot_ids=ids)
    # The first got a 503, which may come after Cinder acted: unknown, and the worker checks.
    assert [i.outcome for i in result.items] == ["unknown", "failed"]
    assert "not sent" in result.items[1].message
    assert "1 unknown, being checked" in result.summary()
    assert cinder_calls(mirrored) == 1
    assert set(Snapshot.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "error_deleting"
    }


def test_bulk_reset_across_projects(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    ids = [make_snapshot(mirrored, p, "error_deleting").id for p in ("alpha", "beta", "gamma")]
    result = admin.run(
        snapshots_reset_status, snapshot_ids=ids, status="error", reason="bulk repair"
    )
    assert len(result.done) == len(ids)
    assert set(Snapshot.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"error"}
    assert AuditEvent.objects.filter(action="reset_snapshot_status").count() == len(ids)
