"""Cinder's refusals, as the gateway turns them into the project's errors: the class, Cinder's
own words and the request id, identical on the simulator and on cinder 29.

Each message below is what a real cinder 29.0.0 said; where the simulator said something else
it was fixed (see cloudsim/README.md for the one wording left different on purpose)."""

from __future__ import annotations

import pytest

from snapshots.cloud import errors
from tests.behaviour.helpers import create_outside

MISSING = "00000000-0000-0000-0000-000000000000"
KEY_RULE = "'^[a-zA-Z0-9-_:. ]{1,255}$'"
CREATE_KEY_RULE = "'^[a-zA-Z0-9-_:. /]{1,255}$'"
STATUSES = (
    "('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting', "
    "'unmanaging', 'backing-up', 'restoring')"
)


def _refused(call, cls: type[errors.CloudError], message: str) -> errors.CloudError:
    with pytest.raises(cls) as caught:
        call()
    exc = caught.value
    assert exc.message == message
    assert exc.request_id.startswith("req-")
    text = exc.user_message()
    assert text == f"{cls.title}: {message} (request {exc.request_id})"
    return exc


def test_policy_refusals_are_forbidden_with_the_rule_named(backend, made, tag):
    snap = create_outside(backend, made, "alpha", f"{tag}-p")
    reader = backend.gateway("auditor", "alpha")
    member = backend.gateway("demo", "alpha")
    volume = backend.volume_ids("alpha")[0]
    policy = "Policy doesn't allow {} to be performed."
    _refused(
        lambda: reader.create_snapshot(volume_id=volume, name=f"{tag}-no"),
        errors.Forbidden,
        policy.format("volume:create_snapshot"),
    )
    _refused(
        lambda: reader.update_snapshot(snap.id, name="x"),
        errors.Forbidden,
        policy.format("volume:update_snapshot"),
    )
    _refused(
        lambda: reader.delete_snapshot(snap.id),
        errors.Forbidden,
        policy.format("volume:delete_snapshot"),
    )
    _refused(
        lambda: reader.set_snapshot_metadata(snap.id, {"k": "v"}),
        errors.Forbidden,
        policy.format("volume:update_snapshot_metadata"),
    )
    for call, rule in (
        (lambda: member.reset_snapshot_status(snap.id, "error"), "reset_status"),
        (lambda: member.force_delete_snapshot(snap.id), "force_delete"),
    ):
        _refused(
            call,
            errors.Forbidden,
            policy.format(f"volume_extension:snapshot_admin_actions:{rule}"),
        )
    assert backend.outside("alpha").get_snapshot(snap.id).status == "available"
    # What a reader may do, Cinder lets them do.
    assert reader.get_snapshot(snap.id).name == f"{tag}-p"


def test_not_found(backend, made, tag):
    admin = backend.outside("alpha")
    snap = create_outside(backend, made, "alpha", f"{tag}-nf")
    for call in (lambda: admin.get_snapshot(MISSING), lambda: admin.delete_snapshot(MISSING)):
        _refused(call, errors.NotFound, f"Snapshot {MISSING} could not be found.")
    # Another project's snapshot does not exist for a member.
    _refused(
        lambda: backend.gateway("demo", "beta").get_snapshot(snap.id),
        errors.NotFound,
        f"Snapshot {snap.id} could not be found.",
    )
    _refused(
        lambda: admin.create_snapshot(volume_id=MISSING, name="x"),
        errors.NotFound,
        f"Volume {MISSING} could not be found.",
    )
    _refused(
        lambda: admin.delete_snapshot_metadata(snap.id, ["nope"]),
        errors.NotFound,
        f"Snapshot {snap.id} has no metadata with key nope.",
    )
    _refused(
        lambda: admin.list_snapshots(marker=MISSING, sort="bogus:asc"),
        errors.NotFound,
        f"Snapshot {MISSING} could not be found.",
    )
    _refused(
        lambda: admin.list_volumes(marker=MISSING),
        errors.NotFound,
        f"Volume {MISSING} could not be found.",
    )


def test_bad_requests(backend, made, tag):
    admin = backend.outside("alpha")
    snap = create_outside(backend, made, "alpha", f"{tag}-br")
    volume = backend.volume_ids("alpha")[0]
    long = "n" * 256
    _refused(
        lambda: admin.update_snapshot(snap.id, name=long),
        errors.BadRequest,
        f"Invalid input for field/attribute name. Value: {long}. {long!r} is too long",
    )
    _refused(
        lambda: admin.set_snapshot_metadata(snap.id, {"a/b": "v"}),
        errors.BadRequest,
        "Invalid input for field/attribute metadata. Value: {'a/b': 'v'}. 'a/b' does not "
        f"match any of the regexes: {KEY_RULE}",
    )
    _refused(
        lambda: admin.create_snapshot(volume_id=volume, name="x", metadata={"a@b": "v"}),
        errors.BadRequest,
        "Invalid input for field/attribute metadata. Value: {'a@b': 'v'}. 'a@b' does not "
        f"match any of the regexes: {CREATE_KEY_RULE}",
    )
    value = "v" * 256
    _refused(
        lambda: admin.set_snapshot_metadata(snap.id, {"k": value}),
        errors.BadRequest,
        f"Invalid input for field/attribute k. Value: {value}. {value!r} is too long",
    )
    _refused(
        lambda: admin.set_snapshot_status(snap.id, "error", 10),
        errors.BadRequest,
        "Snapshot status available not allowed for update_snapshot_status",
    )
    _refused(
        lambda: admin.reset_snapshot_status(snap.id, "bogus"),
        errors.BadRequest,
        f"Snapshot status: bogus is invalid, valid statuses are: {STATUSES}.",
    )
    _refused(
        lambda: admin.list_snapshots(sort="size:asc"),
        errors.BadRequest,
        "Invalid input received: Invalid sort key",
    )
    _refused(
        lambda: admin.list_snapshots(sort="name:up"),
        errors.BadRequest,
        "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.",
    )
    admin.reset_snapshot_status(snap.id, "error_deleting")
    _refused(
        lambda: admin.delete_snapshot(snap.id),
        errors.BadRequest,
        "Invalid snapshot: Snapshot status must be available or error and must not be part "
        "of a group.",
    )
    with pytest.raises(errors.BadRequest) as caught:
        admin.update_snapshot(snap.id, description="two\nlines")
    assert caught.value.message.startswith(
        "Invalid input for field/attribute description. Value: two\nlines. 'two\\nlines' does "
        "not match "
    )


def test_set_status_moves_creating_and_deleting_on(backend, made, tag):
    """os-update_snapshot_status: from creating or deleting only; progress is kept."""
    admin = backend.outside("alpha")
    snap = create_outside(backend, made, "alpha", f"{tag}-ss")
    admin.reset_snapshot_status(snap.id, "creating")
    _refused(
        lambda: admin.set_snapshot_status(snap.id, "available", 150),
        errors.BadRequest,
        "Invalid input received: progress must be an integer percentage between 0 and 100",
    )
    admin.set_snapshot_status(snap.id, "available", 40)
    seen = admin.get_snapshot(snap.id)
    assert (seen.status, seen.progress) == ("available", 40)
    admin.reset_snapshot_status(snap.id, "deleting")
    admin.set_snapshot_status(snap.id, "error_deleting")
    seen = admin.get_snapshot(snap.id)
    assert (seen.status, seen.progress) == ("error_deleting", 40)
