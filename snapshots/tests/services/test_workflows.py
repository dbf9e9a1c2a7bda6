"""The workflow services against the simulator, for each role: create a volume from a snapshot,
revert a volume to its latest snapshot, unmanage and manage back."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.cloud.credentials import service_gateway
from snapshots.models import AuditEvent, ManageableSnapshot, ProjectQuota, Snapshot, Volume
from snapshots.services import idempotency, quota, revert, volume_tracking
from snapshots.services.manage import refresh_manageable, snapshot_manage, snapshot_unmanage
from snapshots.services.snapshots import ActionRefused, Caller
from snapshots.services.volume_create import volume_create_from_snapshot
from snapshots.tests.actions_helpers import (
    actor,
    cinder_calls,
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
    world_fixture,  # noqa: F401 (the fixture)
)

HOST = "cloudsim@lvm"


def _create(who, snap, key=None, **kw):
    args = {"size": snap.size, "name": "from-snap"}
    args.update(kw)
    return volume_create_from_snapshot(
        caller=who.caller(key or idempotency.new_key(), client_addr="10.0.0.9"),
        snapshot_id=snap.id,
        **args,
    )


def last_event(action):
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


# -- create a volume from a snapshot -------------------------------------------------------------
def test_member_creates_a_volume_that_is_tracked_to_available(
    world, django_capture_on_commit_callbacks, enqueued
):
    cloud, _vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    with django_capture_on_commit_callbacks(execute=True):
        made = _create(demo, snap, size=6, description="copy").volume
    assert (made.status, made.size, made.project_id) == ("creating", 6, snap.project_id)
    assert ("snapshots.tasks.track_volumes", {"volume_id": made.id}) in enqueued
    assert ("snapshots.tasks.refresh_quotas", {"project_id": made.project_id}) in enqueued
    event = last_event("create_volume_from_snapshot")
    assert (event.outcome, event.target_id, event.parameters["volume_id"]) == (
        Outcome.SUCCESS,
        snap.id,
        made.id,
    )
    cloud.advance(5)
    volume_tracking.track_volumes()
    assert Volume.objects.get(pk=made.id).status == "available"


def test_double_submit_makes_one_volume(world):
    cloud, _vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    key = idempotency.new_key()
    first = _create(demo, snap, key=key)
    second = _create(demo, snap, key=key)
    assert second.repeated and first.volume.id == second.volume.id
    assert cloud.stats()["by_route"].get("POST /volume/v3/{project_id}/volumes") == 1


def test_smaller_than_the_snapshot_is_refused_without_a_call(world):
    cloud, _vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    with pytest.raises(ActionRefused, match="at least as large"):
        _create(demo, snap, size=snap.size - 1)
    assert cinder_calls(cloud) == 0
    assert last_event("create_volume_from_snapshot").outcome == Outcome.DENIED


def test_quota_is_refused_locally_and_cinders_413_still_handled(world):
    cloud, _vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    pid = snap.project_id
    ProjectQuota.objects.create(project_id=pid, gigabytes_limit=10, gigabytes_used=8)
    with pytest.raises(ActionRefused, match="2 GiB left"):
        _create(demo, snap)
    assert cinder_calls(cloud) == 0
    # another user got there first: the mirror says it fits, Cinder says 413
    ProjectQuota.objects.filter(pk=pid).update(gigabytes_limit=-1)
    cloud.set_quota("alpha", gigabytes=1)
    with pytest.raises(errors.OverQuota):
        _create(demo, snap)
    assert last_event("create_volume_from_snapshot").outcome == Outcome.REFUSED


def test_reader_is_denied_and_other_projects_snapshot_is_not_found(world):
    cloud, _vol, snap = world
    auditor = actor(cloud, "auditor", "alpha")
    with pytest.raises(PermissionDenied):
        _create(auditor, snap)
    assert last_event("create_volume_from_snapshot").outcome == Outcome.DENIED
    # demo working in beta does not see alpha's snapshots; gamma's are not theirs at all
    with pytest.raises(Http404):
        _create(actor(cloud, "demo", "beta"), snap)
    gamma = make_snapshot(cloud, "gamma", "available")
    cloud.reset_stats()
    with pytest.raises(Http404):
        _create(actor(cloud, "demo", "alpha"), gamma)
    assert cinder_calls(cloud) == 0


def test_an_outage_before_cinder_is_nothing_changed(world):
    cloud, _vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    cloud.faults(cinder_down=True)
    with pytest.raises(errors.OutcomeUnknown) as caught:
        _create(demo, snap)
    cloud.clear_faults()
    # a 503 from the API may come after Cinder acted: the outcome is unknown, not "failed"
    assert last_event("create_volume_from_snapshot").outcome == Outcome.UNKNOWN
    assert caught.value.operation_key


# -- revert ----------------------------------------------------------------------------------
def test_member_reverts_to_the_latest_snapshot(world, django_capture_on_commit_callbacks, enqueued):
    cloud, vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    assert revert.revert_refusal(revert.source_volume(snap), snap) == ""
    with django_capture_on_commit_callbacks(execute=True):
        row = demo.run(
            revert.volume_revert_to_snapshot,
            snapshot_id=snap.id,
            idempotency_key=idempotency.new_key(),
        ).snapshot
    assert row.status == "restoring"
    assert Volume.objects.get(pk=vol["id"]).status == "reverting"
    assert ("snapshots.tasks.track_volumes", {"volume_id": vol["id"]}) in enqueued
    assert last_event("revert_volume_to_snapshot").outcome == Outcome.SUCCESS
    cloud.advance(5)
    volume_tracking.track_volumes()
    assert Volume.objects.get(pk=vol["id"]).status == "available"


def test_revert_refusals(world):
    cloud, vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    newer = make_snapshot(cloud, "alpha", "available", volume_id=vol["id"], size=4)
    cloud.reset_stats()
    assert "latest" in revert.revert_refusal(revert.source_volume(snap), snap)
    assert revert.revert_refusal(revert.source_volume(newer), newer) == ""
    with pytest.raises(ActionRefused, match="latest snapshot"):
        demo.run(
            revert.volume_revert_to_snapshot,
            snapshot_id=snap.id,
            idempotency_key=idempotency.new_key(),
        )
    Volume.objects.filter(pk=vol["id"]).update(size=8)
    assert "resized" in revert.revert_refusal(Volume.objects.get(pk=vol["id"]), newer)
    Volume.objects.filter(pk=vol["id"]).update(size=4, status="in-use")
    assert "must be available" in revert.revert_refusal(Volume.objects.get(pk=vol["id"]), newer)
    with pytest.raises(PermissionDenied):
        revert.volume_revert_to_snapshot(
            caller=Caller(actor(cloud, "auditor", "alpha").scope, demo.gateway),
            snapshot_id=newer.id,
        )
    assert cinder_calls(cloud) == 0


# -- unmanage and manage ----------------------------------------------------------------------
def test_admin_unmanages_then_manages_back(world, django_capture_on_commit_callbacks):
    cloud, vol, snap = world
    demo = actor(cloud, "demo", "alpha")
    admin = actor(cloud, "admin", "alpha")
    with pytest.raises(PermissionDenied):
        demo.run(snapshot_unmanage, snapshot_id=snap.id, idempotency_key=idempotency.new_key())
    row = admin.run(
        snapshot_unmanage, snapshot_id=snap.id, idempotency_key=idempotency.new_key()
    ).snapshot
    assert row.status == "unmanaging"
    assert last_event("unmanage_snapshot").outcome == Outcome.SUCCESS
    cloud.advance(5)
    with pytest.raises(PermissionDenied):
        refresh_manageable(scope=demo.scope, gateway=demo.gateway, host=HOST)
    assert refresh_manageable(scope=admin.scope, gateway=admin.gateway, host=HOST) > 0
    entry = ManageableSnapshot.objects.get(host=HOST, name=f"_snapshot-{snap.id}")
    assert entry.safe_to_manage and entry.source_volume_id == vol["id"]
    managed_one = ManageableSnapshot.objects.filter(host=HOST, safe_to_manage=False).first()
    with pytest.raises(ActionRefused, match="not safe"):
        admin.run(
            snapshot_manage,
            entry_id=managed_one.id,
            name="x",
            description="",
            metadata={},
            idempotency_key=idempotency.new_key(),
        )
    with django_capture_on_commit_callbacks(execute=True):
        back = admin.run(
            snapshot_manage,
            entry_id=entry.id,
            name="back",
            description="managed again",
            metadata={"ticket": "42"},
            idempotency_key=idempotency.new_key(),
        ).snapshot
    assert (back.status, back.name, back.volume_id) == ("creating", "back", vol["id"])
    assert not ManageableSnapshot.objects.filter(pk=entry.id).exists()
    cloud.advance(5)
    seen = service_gateway().get_snapshot(back.id)
    assert (seen.status, seen.metadata) == ("available", {"ticket": "42"})
    assert last_event("manage_snapshot").outcome == Outcome.SUCCESS
    assert Snapshot.objects.filter(pk=back.id).exists()


def test_unmanage_refuses_a_transitional_snapshot(world):
    cloud, _vol, _snap = world
    admin = actor(cloud, "admin", "alpha")
    creating = make_snapshot(cloud, "alpha", "creating")
    with pytest.raises(ActionRefused, match="available or error"):
        admin.run(snapshot_unmanage, snapshot_id=creating.id, idempotency_key=idempotency.new_key())
    assert quota.quota_for("nope") is None


# -- unknown outcomes --------------------------------------------------------------------------
def _lost_answer(key: str, action: str, snap, request: dict) -> None:
    """What an action leaves behind when Cinder's answer about `snap` never arrived."""
    idempotency.hold_unknown(
        key=key,
        actor_id="u",
        action=action,
        subject=snap.id,
        project_id=snap.project_id,
        target_id=snap.id,
        event_id=None,
        request=request,
    )


def test_the_worker_finds_a_volume_whose_create_answer_was_lost(world):
    from snapshots.models import Operation
    from snapshots.services import reconcile

    _cloud, _vol, snap = world
    sent_at = timezone.now()
    made, _ = service_gateway().create_volume(snapshot_id=snap.id, size=snap.size, name="lost")
    request = {"snapshot_id": snap.id, "name": "lost", "sent_at": sent_at.isoformat()}
    _lost_answer("k-lost", "create_volume_from_snapshot", snap, request)
    state = reconcile.reconcile_operation(key="k-lost", gateway=service_gateway())
    assert state == Operation.SUCCEEDED
    assert Volume.objects.get(pk=made.id).snapshot_id == snap.id
    assert "made volume" in Operation.objects.get(pk="k-lost").message


def test_the_worker_sees_an_unmanage_that_went_through(world):
    from snapshots.models import Operation
    from snapshots.services import reconcile

    _cloud, _vol, snap = world
    service_gateway().unmanage_snapshot(snap.id)
    _lost_answer("k-um", "unmanage_snapshot", snap, {"snapshot_id": snap.id})
    assert reconcile.reconcile_operation(key="k-um", gateway=service_gateway()) == (
        Operation.SUCCEEDED
    )
