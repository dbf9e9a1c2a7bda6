"""update_snapshot, update_snapshot_metadata and delete_snapshot against the simulator."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.models import AuditEvent, Snapshot
from snapshots.services import idempotency, mirror
from snapshots.services.snapshot_delete import snapshot_delete
from snapshots.services.snapshot_edit import snapshot_update, snapshot_update_metadata
from snapshots.services.snapshots import TRACK_TASK, ActionRefused
from snapshots.tests.actions_helpers import (
    actor,
    cinder_calls,
    mirrored_fixture,  # noqa: F401 (the fixture)
    pick,
    sim_snapshot,
    unreachable,
)


def test_member_renames_and_the_mirror_follows_cinder(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    row = demo.run(
        snapshot_update, snapshot_id=snap.id, name="renamed", description=snap.description
    ).snapshot
    assert row.name == "renamed"
    assert sim_snapshot(mirrored, snap.id)["name"] == "renamed"
    assert row.version > snap.version
    event = AuditEvent.objects.get(action="update_snapshot")
    assert event.outcome == Outcome.SUCCESS
    assert event.parameters == {"name": "renamed", "previous": {"name": snap.name}}


def test_unchanged_edit_sends_nothing(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    mirrored.reset_stats()
    demo.run(snapshot_update, snapshot_id=snap.id, name=snap.name, description=snap.description)
    assert cinder_calls(mirrored) == 0


def test_another_projects_snapshot_is_not_found(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    gamma = pick(mirrored.project_id("gamma"), "available")
    beta = pick(mirrored.project_id("beta"), "available")  # demo is a member there, not now
    for snap in (gamma, beta):
        with pytest.raises(Http404):
            demo.run(snapshot_update, snapshot_id=snap.id, name="x", description="")


def test_reader_cannot_edit_and_nothing_reaches_cinder(mirrored):
    auditor = actor(mirrored, "auditor", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    mirrored.reset_stats()
    with pytest.raises(PermissionDenied):
        auditor.run(
            snapshot_update_metadata, snapshot_id=snap.id, set_items={"a": "b"}, remove_keys=[]
        )
    assert cinder_calls(mirrored) == 0
    assert AuditEvent.objects.get(action="update_snapshot_metadata").outcome == Outcome.DENIED


def test_metadata_add_change_remove_through_the_metadata_endpoints(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    before = dict(snap.metadata)
    assert before, "the demo snapshots carry metadata"
    doomed = sorted(before)[0]
    mirrored.reset_stats()
    row = demo.run(
        snapshot_update_metadata,
        snapshot_id=snap.id,
        set_items={"new key": "v1", "owner": "dba-team"},
        remove_keys=[doomed],
    ).snapshot
    expected = {k: v for k, v in before.items() if k != doomed}
    expected.update({"new key": "v1", "owner": "dba-team"})
    if doomed == "owner":
        expected["owner"] = "dba-team"
    assert sim_snapshot(mirrored, snap.id)["metadata"] == expected
    assert row.metadata == expected
    routes = mirrored.stats()["by_route"]
    assert any(r.startswith("POST ") and r.endswith("/metadata") for r in routes)
    assert "PUT /volume/v3/{project_id}/snapshots/{snapshot_id}" not in routes


def test_metadata_key_with_slash_is_refused_by_the_metadata_endpoint(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    with pytest.raises(errors.BadRequest):
        demo.run(
            snapshot_update_metadata, snapshot_id=snap.id, set_items={"a/b": "c"}, remove_keys=[]
        )
    assert Snapshot.objects.get(pk=snap.id).metadata == snap.metadata
    assert AuditEvent.objects.get(action="update_snapshot_metadata").status_code == 400


def test_removing_a_key_already_gone_is_not_an_error(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    row = demo.run(
        snapshot_update_metadata, snapshot_id=snap.id, set_items={}, remove_keys=["never-there"]
    ).snapshot
    assert row.metadata == snap.metadata


def test_member_deletes_an_available_snapshot(
    mirrored, django_capture_on_commit_callbacks, enqueued
):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    with django_capture_on_commit_callbacks(execute=True):
        row = snapshot_delete(caller=demo.caller(), snapshot_id=snap.id).snapshot
    assert row.status == "deleting"
    assert sim_snapshot(mirrored, snap.id)["status"] == "deleting"
    assert row.status_changes.filter(to_status="deleting", source=ChangeSource.ACTION).exists()
    assert enqueued == [(TRACK_TASK, {"snapshot_id": snap.id})]
    mirrored.advance(5)
    assert sim_snapshot(mirrored, snap.id) is None


def test_delete_twice_with_one_key_calls_cinder_once(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    key = idempotency.new_key()
    first = demo.run(snapshot_delete, snapshot_id=snap.id, idempotency_key=key).snapshot
    second = demo.run(snapshot_delete, snapshot_id=snap.id, idempotency_key=key).snapshot
    assert first.id == second.id
    routes = mirrored.stats()["by_route"]
    assert routes.get("DELETE /volume/v3/{project_id}/snapshots/{snapshot_id}") == 1


def test_delete_of_a_creating_snapshot_is_refused_before_cinder(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "creating")
    mirrored.reset_stats()
    with pytest.raises(ActionRefused, match="creating"):
        snapshot_delete(caller=demo.caller(), snapshot_id=snap.id)
    assert cinder_calls(mirrored) == 0
    assert AuditEvent.objects.get(action="delete_snapshot").outcome == Outcome.DENIED


def test_stale_mirror_cinder_refuses_delete_and_nothing_changes(mirrored):
    """The mirror says available, Cinder knows it is creating: Cinder's 400 is the answer."""
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "creating")
    stale = dataclasses.replace(demo.gateway.get_snapshot(snap.id), status="available")
    row, _ = mirror.apply(stale, source=ChangeSource.SYNC)
    with pytest.raises(errors.BadRequest) as info:
        snapshot_delete(caller=demo.caller(), snapshot_id=snap.id)
    assert "must be available or error" in info.value.message
    assert Snapshot.objects.get(pk=snap.id).status == "available"
    assert Snapshot.objects.get(pk=snap.id).version == row.version
    event = AuditEvent.objects.get(action="delete_snapshot")
    assert (event.outcome, event.status_code) == (Outcome.REFUSED, 400)
    assert event.request_id


def test_delete_when_cinder_cannot_be_reached_changes_nothing(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    with pytest.raises(errors.Unavailable):
        unreachable(demo).run(snapshot_delete, snapshot_id=snap.id)
    assert Snapshot.objects.get(pk=snap.id).status == "available"
    assert AuditEvent.objects.get(action="delete_snapshot").outcome == Outcome.FAILED


def test_delete_answered_by_a_5xx_is_unknown_not_failed(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    snap = pick(mirrored.project_id("alpha"), "available")
    mirrored.faults(cinder_down=True)
    with pytest.raises(errors.OutcomeUnknown):
        snapshot_delete(caller=demo.caller(), snapshot_id=snap.id)
    assert AuditEvent.objects.get(action="delete_snapshot").outcome == Outcome.UNKNOWN


def test_admin_deletes_in_another_project(mirrored):
    admin = actor(mirrored, "admin", "alpha")
    snap = pick(mirrored.project_id("gamma"), "error")
    row = snapshot_delete(caller=admin.caller(), snapshot_id=snap.id).snapshot
    assert row.status == "deleting"
    assert AuditEvent.objects.get(action="delete_snapshot").project_id == snap.project_id
