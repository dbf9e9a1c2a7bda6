"""Unknown is not failed: Cinder acts but its answer never arrives in time (the simulator's
answer_delay_ms fault), and the worker's reconcile finds out what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots import tasks
from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.models import AuditEvent, Operation, Snapshot
from snapshots.services import idempotency
from snapshots.services.reconcile import GIVE_UP_AFTER, reconcile_operation, unsettled_keys
from snapshots.services.snapshot_create import snapshot_create
from snapshots.services.snapshot_delete import snapshot_delete
from snapshots.services.snapshot_edit import snapshot_update
from snapshots.services.snapshot_repair import snapshot_reset_status
from snapshots.tests.actions_helpers import (
    actor,
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
    pick,
    picks,
    sim_snapshot,
    volumes_of,
)

CREATE_ROUTE = "POST /volume/v3/{project_id}/snapshots"
HANG_MS = 2500  # Cinder acts, then answers after this; the caller gives up after 1 s


def _impatient(mirrored, user: str):
    """`user` with a 1 s timeout, the microversion negotiated, then Cinder's answers held back."""
    who = actor(mirrored, user, "alpha", timeout=1.0)
    who.gateway.snapshot_microversion()
    mirrored.faults(answer_delay_ms=HANG_MS)
    return who


def _rename(who, snap, name: str, key: str):
    return who.run(
        snapshot_update,
        snapshot_id=snap.id,
        name=name,
        description=snap.description,
        idempotency_key=key,
    )


def _create(who, volume_id, key):
    return who.run(
        snapshot_create,
        volume_id=volume_id,
        name="lost-answer",
        description="made while the answer hung",
        metadata={},
        force=False,
        idempotency_key=key,
    )


def test_a_create_whose_answer_is_lost_is_found_and_never_made_twice(mirrored):
    demo = actor(mirrored, "demo", "alpha", timeout=1.0)
    volume_id = volumes_of(mirrored)["db-replica"]["id"]
    demo.gateway.in_use_needs_force()  # discovery before the fault
    mirrored.faults(answer_delay_ms=HANG_MS)
    key = idempotency.new_key()
    with pytest.raises(errors.OutcomeUnknown) as info:
        _create(demo, volume_id, key)
    mirrored.clear_faults()
    assert "did not answer in time" in info.value.user_message()
    first = AuditEvent.objects.get(action="create_snapshot")
    assert first.outcome == Outcome.UNKNOWN
    assert Operation.objects.get(pk=key).state == Operation.UNKNOWN
    assert unsettled_keys() == [key]
    # Cinder did make it, though nobody was told.
    made = service_gateway().list_snapshots(all_projects=True, name="lost-answer").items
    assert len(made) == 1
    assert not Snapshot.objects.filter(name="lost-answer").exists()

    state = reconcile_operation(key=key, gateway=service_gateway())

    assert state == Operation.SUCCEEDED
    op = Operation.objects.get(pk=key)
    row = Snapshot.objects.get(pk=op.target_id)
    assert (row.id, row.name) == (made[0].id, "lost-answer")
    final = AuditEvent.objects.filter(action="create_snapshot").order_by("-id").first()
    assert final.id != first.id
    assert (final.outcome, final.target_id) == (Outcome.SUCCESS, row.id)
    assert final.parameters == {"reconciles": first.id}
    assert unsettled_keys() == []

    # The person sends the same form again: the snapshot Cinder made, not a second one.
    mirrored.reset_stats()
    again = _create(actor(mirrored, "demo", "alpha"), volume_id, key)
    assert again.repeated and again.snapshot.id == row.id
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None
    assert Snapshot.objects.filter(name="lost-answer").count() == 1


def test_a_create_cinder_never_carried_out_is_settled_as_not_done_and_may_be_resent(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    volume_id = volumes_of(mirrored)["db-replica"]["id"]
    demo.gateway.in_use_needs_force()
    mirrored.faults(error_rate=1.0, error_status=502)  # a proxy's 502: did Cinder act?
    key = idempotency.new_key()
    with pytest.raises(errors.OutcomeUnknown):
        _create(demo, volume_id, key)
    mirrored.clear_faults()

    # Too early to tell: nothing shows yet, but the request may still be on its way.
    assert reconcile_operation(key=key, gateway=service_gateway()) == Operation.UNKNOWN
    later = timezone.now() + GIVE_UP_AFTER + timedelta(seconds=1)
    assert reconcile_operation(key=key, gateway=service_gateway(), now=later) == (
        Operation.NOT_DONE
    )
    final = AuditEvent.objects.filter(action="create_snapshot").order_by("-id").first()
    assert final.outcome == Outcome.FAILED and "did not do it" in final.message

    # Now it is known that nothing happened, the same form may be sent again.
    result = _create(demo, volume_id, key)
    assert not result.repeated and result.snapshot.status == "creating"
    assert Operation.objects.get(pk=key).state == Operation.DONE


def test_an_edit_whose_answer_is_lost_is_read_back(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    demo = _impatient(mirrored, "demo")
    key = idempotency.new_key()
    with pytest.raises(errors.OutcomeUnknown):
        _rename(demo, snap, "renamed-in-the-dark", key)
    mirrored.clear_faults()
    assert AuditEvent.objects.get(action="update_snapshot").outcome == Outcome.UNKNOWN
    assert reconcile_operation(key=key, gateway=service_gateway()) == Operation.SUCCEEDED
    assert Snapshot.objects.get(pk=snap.id).name == "renamed-in-the-dark"


def test_a_delete_whose_answer_is_lost_is_read_back(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    demo = _impatient(mirrored, "demo")
    with pytest.raises(errors.OutcomeUnknown) as info:
        snapshot_delete(caller=demo.caller(), snapshot_id=snap.id)
    mirrored.clear_faults()
    # No key in the call: the unknown attempt still gets a record the worker settles.
    key = info.value.operation_key
    assert Operation.objects.get(pk=key).target_id == snap.id
    assert reconcile_operation(key=key, gateway=service_gateway()) == Operation.SUCCEEDED
    assert Snapshot.objects.get(pk=snap.id).status in ("deleting", "deleted") or (
        Snapshot.objects.get(pk=snap.id).deleted_at is not None
    )
    outcomes = list(
        AuditEvent.objects.filter(action="delete_snapshot")
        .order_by("id")
        .values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.UNKNOWN, Outcome.SUCCESS]


def test_a_key_reused_for_another_snapshot_is_refused_and_audited(mirrored):
    first, second = picks(mirrored.project_id("alpha"), "available", 2)
    demo = actor(mirrored, "demo", "alpha")
    key = idempotency.new_key()
    demo.run(snapshot_delete, snapshot_id=first.id, idempotency_key=key)
    mirrored.reset_stats()
    with pytest.raises(idempotency.KeyReused):
        demo.run(snapshot_delete, snapshot_id=second.id, idempotency_key=key)
    assert sum(mirrored.stats()["by_route"].values()) == 0
    assert sim_snapshot(mirrored, second.id)["status"] == "available"
    refused = AuditEvent.objects.get(action="delete_snapshot", target_id=second.id)
    assert refused.outcome == Outcome.DENIED and "already used" in refused.message


def test_a_key_reused_by_another_person_is_refused(mirrored):
    snap = pick(mirrored.project_id("alpha"), "available")
    demo = actor(mirrored, "demo", "alpha")
    admin = actor(mirrored, "admin", "alpha")
    key = idempotency.new_key()
    _rename(demo, snap, "by-demo", key)
    with pytest.raises(idempotency.KeyReused):
        admin.run(snapshot_delete, snapshot_id=snap.id, idempotency_key=key)
    assert sim_snapshot(mirrored, snap.id)["status"] == "available"


def test_a_repair_whose_answer_is_lost_is_settled_by_the_beat(mirrored):
    snap = make_snapshot(mirrored, "alpha", "error_deleting")
    admin = _impatient(mirrored, "admin")
    with pytest.raises(errors.OutcomeUnknown):
        admin.run(
            snapshot_reset_status, snapshot_id=snap.id, status="available", reason="checked by hand"
        )
    mirrored.clear_faults()
    # Its own reconcile task was lost (say, the broker was down): the beat's sweep settles it.
    assert tasks.reconcile_unsettled.apply().get() == "reconciled 1: succeeded"
    assert Snapshot.objects.get(pk=snap.id).status == "available"
    outcomes = list(
        AuditEvent.objects.filter(action="reset_snapshot_status")
        .order_by("id")
        .values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.UNKNOWN, Outcome.SUCCESS]
