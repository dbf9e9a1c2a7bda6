"""A standalone Cinder without Keystone: local Django users in the snapshot-* groups, and a
service credential (`user:project`) for the noauth endpoint doing every call."""

from __future__ import annotations

import pytest

from snapshots.services import sync
from tests.behaviour.helpers import (
    create_outside,
    create_through_form,
    listing,
    local_sign_in,
    local_user,
    mirror_matches,
    post_form,
    row,
    run_tracks,
    sync_all,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _worker(enqueued) -> None:
    run_tracks(enqueued)
    sync.track_snapshots()


def test_member_creates_and_deletes_against_noauth_cinder(local_mode, made, tag, enqueued):
    backend = local_mode
    local_user("pat", "member")
    client = local_sign_in("pat")
    response = create_through_form(
        client, backend.volume_ids("alpha")[2], f"{tag}-local", metadata={"via": "noauth"}
    )
    assert response.status_code == 302, response.content[:500]
    sid = response["Location"].split("highlight=")[1]
    made("alpha", sid)
    assert row(sid).project_id == backend.project_id("alpha")

    def available() -> bool:
        _worker(enqueued)
        return row(sid).status == "available"

    backend.wait_until(available, what="the local create is available in the mirror")
    seen = backend.outside("alpha").get_snapshot(sid)
    assert (seen.name, seen.metadata, seen.user_id) == (
        f"{tag}-local",
        {"via": "noauth"},
        "dashboard",
    )
    mirror_matches(seen)

    enqueued.clear()
    response = post_form(client, f"/snapshots/{sid}/delete/")
    assert response.status_code == 302, response.content[:500]

    def gone() -> bool:
        _worker(enqueued)
        return row(sid).deleted_at is not None

    backend.wait_until(gone, what="the local delete is gone from the mirror")
    backend.wait_gone("alpha", sid)


def test_sync_and_roles_over_noauth(local_mode, made, tag):
    backend = local_mode
    mine = create_outside(backend, made, "alpha", f"{tag}-alpha")
    theirs = create_outside(backend, made, "beta", f"{tag}-beta")
    result = sync_all()
    assert result.seen >= 2
    mirror_matches(backend.outside("alpha").get_snapshot(mine.id))
    mirror_matches(backend.outside("beta").get_snapshot(theirs.id))

    local_user("mem", "member")
    local_user("boss", "admin")
    local_user("ro", "reader")
    member, admin, reader = (local_sign_in(u) for u in ("mem", "boss", "ro"))
    # Without Keystone there are no project names: the ids stand in for them.
    assert [(r["name"], r["project_id"]) for r in listing(member, q=tag)] == [
        (f"{tag}-alpha", backend.project_id("alpha"))
    ]
    assert {r["name"] for r in listing(admin, q=tag)} == {f"{tag}-alpha", f"{tag}-beta"}
    assert {r["name"] for r in listing(reader, q=tag)} == {f"{tag}-alpha", f"{tag}-beta"}

    # The member's admin action is refused by the dashboard (noauth Cinder would allow it).
    response = member.post(
        f"/snapshots/{mine.id}/reset-status/",
        {"idempotency_key": "k" * 20, "status": "error", "reason": "x"},
    )
    assert response.status_code == 403
    assert reader.get("/snapshots/create/").status_code == 403
    assert backend.outside("alpha").get_snapshot(mine.id).status == "available"

    # The admin's repair goes through, on any project.
    response = post_form(
        admin, f"/snapshots/{theirs.id}/reset-status/", {"status": "error", "reason": tag}
    )
    assert response.status_code == 302, response.content[:500]
    assert backend.outside("beta").get_snapshot(theirs.id).status == "error"
    response = post_form(admin, f"/snapshots/{theirs.id}/force-delete/")
    assert response.status_code == 302, response.content[:500]
    backend.wait_gone("beta", theirs.id)
    sync_all()
    assert row(theirs.id).deleted_at is not None
