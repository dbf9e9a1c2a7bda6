"""create_snapshot against the simulator: success, every refusal, outage, double submit, roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.models import AuditEvent, Operation, Snapshot, StatusChange
from snapshots.services import idempotency
from snapshots.services.snapshot_create import snapshot_create
from snapshots.services.snapshots import RECONCILE_TASK, TRACK_TASK
from snapshots.tests.actions_helpers import (
    actor,
    cinder_calls,
    mirrored_fixture,  # noqa: F401 (the fixture)
    sim_snapshot,
    unreachable,
    volumes_of,
)

CREATE_ROUTE = "POST /volume/v3/{project_id}/snapshots"


def _create(who, volume_id, key=None, **kw):
    args = {
        "name": "nightly-test",
        "description": "made by a test",
        "metadata": {"owner": "ops", "path/with/slash": "ok"},
        "force": False,
        "volume_name": "db-replica",
    }
    args.update(kw)
    return snapshot_create(
        caller=who.caller(key or idempotency.new_key(), client_addr="10.0.0.7"),
        volume_id=volume_id,
        **args,
    ).snapshot


def test_member_creates_a_snapshot_that_appears_creating_and_is_tracked(
    mirrored, django_capture_on_commit_callbacks, enqueued
):
    demo = actor(mirrored, "demo", "alpha")
    volume = volumes_of(mirrored)["db-replica"]
    with django_capture_on_commit_callbacks(execute=True):
        row = _create(demo, volume["id"])

    assert row.status == "creating"
    assert row.progress == 0
    assert row.project_id == mirrored.project_id("alpha")
    assert row.project_name == "alpha"
    assert row.volume_name == "db-replica"
    assert row.metadata == {"owner": "ops", "path/with/slash": "ok"}
    in_cinder = sim_snapshot(mirrored, row.id)
    assert in_cinder["name"] == "nightly-test"
    assert in_cinder["volume_id"] == volume["id"]
    change = StatusChange.objects.get(snapshot=row)
    assert (change.from_status, change.to_status, change.source) == (
        "",
        "creating",
        ChangeSource.ACTION,
    )
    event = AuditEvent.objects.get(action="create_snapshot")
    assert event.outcome == Outcome.SUCCESS
    assert event.status_code == 202
    assert event.request_id.startswith("req-")
    assert event.target_id == row.id
    assert event.client_addr == "10.0.0.7"
    assert event.parameters["volume_id"] == volume["id"]
    assert enqueued == [(TRACK_TASK, {"snapshot_id": row.id})]


def test_double_submit_makes_one_snapshot(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    volume = volumes_of(mirrored)["db-replica"]
    key = idempotency.new_key()
    first = _create(demo, volume["id"], key=key)
    second = _create(demo, volume["id"], key=key)

    assert second.id == first.id
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) == 1
    assert Snapshot.objects.filter(name="nightly-test").count() == 1
    assert Operation.objects.get(pk=key).target_id == first.id


def test_in_use_volume_without_force_is_refused_by_cinder_and_nothing_changes(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    volume = volumes_of(mirrored)["db-primary"]  # in-use
    before = Snapshot.objects.count()
    key = idempotency.new_key()
    with pytest.raises(errors.BadRequest) as info:
        _create(demo, volume["id"], key=key, force=False)

    assert "in-use" in info.value.message
    assert Snapshot.objects.count() == before
    assert not Operation.objects.filter(pk=key).exists()  # released: the form can be resent
    event = AuditEvent.objects.get(action="create_snapshot")
    assert event.outcome == Outcome.REFUSED
    assert event.status_code == 400
    assert event.request_id.startswith("req-")
    assert "in-use" in event.message


def test_in_use_volume_with_force_is_snapshotted(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    assert demo.gateway.in_use_needs_force()
    volume = volumes_of(mirrored)["db-primary"]
    row = _create(demo, volume["id"], force=True)
    assert row.status == "creating"
    assert sim_snapshot(mirrored, row.id)["volume_id"] == volume["id"]


def test_volume_in_error_is_refused(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    volume = volumes_of(mirrored)["scratch-tmp"]
    with pytest.raises(errors.BadRequest):
        _create(demo, volume["id"])


def test_quota_exceeded_is_a_413_and_nothing_changes(mirrored):
    mirrored.set_quota("alpha", snapshots=1)
    demo = actor(mirrored, "demo", "alpha")
    before = Snapshot.objects.count()
    with pytest.raises(errors.OverQuota) as info:
        _create(demo, volumes_of(mirrored)["db-replica"]["id"])
    assert info.value.status_code == 413
    assert "Quota exceeded" in info.value.user_message()
    assert Snapshot.objects.count() == before
    assert AuditEvent.objects.get(action="create_snapshot").status_code == 413


def test_another_projects_volume_is_not_found(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    gamma_volume = volumes_of(mirrored, "gamma")["mail-spool"]
    with pytest.raises(errors.NotFound):
        _create(demo, gamma_volume["id"])


def test_reader_is_denied_before_anything_reaches_cinder(mirrored):
    auditor = actor(mirrored, "auditor", "alpha")
    mirrored.reset_stats()
    with pytest.raises(PermissionDenied):
        _create(auditor, volumes_of(mirrored)["db-replica"]["id"])
    # volumes_of() itself asked Cinder once; the create sent nothing.
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None
    event = AuditEvent.objects.get(action="create_snapshot")
    assert event.outcome == Outcome.DENIED


def test_cinder_policy_has_the_last_word(mirrored):
    """A scope the dashboard lets through with a reader's token: Cinder answers 403."""
    member = actor(mirrored, "demo", "alpha")
    reader = actor(mirrored, "auditor", "alpha")
    member.gateway = reader.gateway
    with pytest.raises(errors.Forbidden):
        _create(member, volumes_of(mirrored)["db-replica"]["id"])
    assert AuditEvent.objects.get(action="create_snapshot").status_code == 403


def test_cloud_never_reached_leaves_nothing_and_releases_the_key(mirrored):
    demo = actor(mirrored, "demo", "alpha")
    volume_id = volumes_of(mirrored)["db-replica"]["id"]
    key = idempotency.new_key()
    before = Snapshot.objects.count()
    with pytest.raises(errors.Unavailable) as info:
        _create(unreachable(demo), volume_id, key=key)
    assert not isinstance(info.value, errors.OutcomeUnknown)
    assert Snapshot.objects.count() == before
    assert not Operation.objects.filter(pk=key).exists()
    assert AuditEvent.objects.get(action="create_snapshot").outcome == Outcome.FAILED

    mirrored.reset_stats()
    row = _create(demo, volume_id, key=key)  # the same form, sent again, now works
    assert row.status == "creating"
    assert cinder_calls(mirrored) >= 1


def test_a_5xx_answer_is_unknown_and_keeps_the_key(
    mirrored, enqueued, django_capture_on_commit_callbacks
):
    """A 503 may come from a proxy after Cinder acted: not "nothing changed"."""
    demo = actor(mirrored, "demo", "alpha")
    volume_id = volumes_of(mirrored)["db-replica"]["id"]
    demo.gateway.in_use_needs_force()  # discovery happened before the outage
    mirrored.faults(cinder_down=True)
    key = idempotency.new_key()
    with (
        pytest.raises(errors.OutcomeUnknown) as info,
        django_capture_on_commit_callbacks(execute=True),
    ):
        _create(demo, volume_id, key=key)
    assert info.value.operation_key == key
    event = AuditEvent.objects.get(action="create_snapshot")
    assert (event.outcome, event.status_code) == (Outcome.UNKNOWN, 503)
    op = Operation.objects.get(pk=key)
    assert (op.state, op.event_id) == (Operation.UNKNOWN, event.id)
    assert enqueued == [(RECONCILE_TASK, {"key": key})]

    mirrored.clear_faults()
    mirrored.reset_stats()
    with pytest.raises(errors.OutcomeUnknown):  # the same form again: still being checked
        _create(demo, volume_id, key=key)
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None
