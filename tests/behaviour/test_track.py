"""The tracker follows a create and a delete made through the dashboard until Cinder is done,
calling the track service the way the worker does for the task an action enqueued."""

from __future__ import annotations

import pytest

from snapshots.cloud import errors
from snapshots.services import sync
from snapshots.services.snapshots import TRACK_TASK
from tests.behaviour.helpers import (
    create_outside,
    create_through_form,
    mirror_matches,
    post_form,
    row,
    run_tracks,
    sign_in,
    sync_all,
)

# Transactions commit, so the track task an action enqueues on commit is really asked for.
pytestmark = pytest.mark.django_db(transaction=True)


def test_track_follows_a_create_to_available(keystone_mode, made, tag, enqueued):
    backend = keystone_mode
    client = sign_in(backend, "demo", project="alpha")
    response = create_through_form(
        client, backend.volume_ids("alpha")[0], f"{tag}-new", metadata={"owner": "ops"}
    )
    assert response.status_code == 302, response.content[:500]
    sid = response["Location"].split("highlight=")[1]
    made("alpha", sid)
    assert row(sid).status == "creating"
    assert enqueued == [(TRACK_TASK, {"snapshot_id": sid})]

    def available() -> bool:
        run_tracks(enqueued)
        sync.track_snapshots()  # the beat's tick, for what is due
        return row(sid).status == "available"

    backend.wait_until(available, what="the mirror shows the new snapshot available")
    seen = backend.outside("alpha").get_snapshot(sid)
    assert (seen.status, seen.metadata, seen.progress) == ("available", {"owner": "ops"}, 100)
    mirror_matches(seen)
    assert row(sid).user_id == backend.user_id("demo")


def test_track_follows_a_delete_until_gone(keystone_mode, made, tag, enqueued):
    backend = keystone_mode
    data = create_outside(backend, made, "alpha", f"{tag}-doomed")
    sync_all()
    client = sign_in(backend, "demo", project="alpha")
    response = post_form(client, f"/snapshots/{data.id}/delete/")
    assert response.status_code == 302, response.content[:500]
    assert row(data.id).status == "deleting" or row(data.id).deleted_at is not None
    assert (TRACK_TASK, {"snapshot_id": data.id}) in enqueued or row(data.id).deleted_at

    def gone() -> bool:
        run_tracks(enqueued)
        sync.track_snapshots()
        return row(data.id).deleted_at is not None

    backend.wait_until(gone, what="the mirror marks the deleted snapshot gone")
    try:
        backend.outside("alpha").get_snapshot(data.id)
    except errors.NotFound:
        pass
    else:
        raise AssertionError("Cinder still has the snapshot the mirror calls gone")
