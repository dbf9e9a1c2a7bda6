"""Smoke test of the real cloud through openstacksdk alone (no project code).

Keystone flavour: real tokens, real catalog, Cinder's real default policy.
Noauth flavour: a session straight to Cinder's noauth endpoint, every caller is admin.
Both flavours share one Cinder database, so what one writes the other sees.
"""

from __future__ import annotations

import uuid

import pytest
from openstack import exceptions

# (user, project) pairs that may create snapshots (member+) and that may not (reader)
WRITERS = [("demo", "alpha"), ("demo", "beta"), ("admin", "alpha"), ("admin", "gamma")]
READERS = [("auditor", "alpha"), ("auditor", "beta"), ("auditor", "gamma")]
EVERYONE = [*WRITERS, ("admin", "beta"), *READERS]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _ids(conn, **query) -> set[str]:
    return {s.id for s in conn.block_storage.snapshots(details=True, **query)}


@pytest.mark.parametrize(("user", "project"), sorted(set(EVERYONE)))
def test_every_demo_user_lists_snapshots(realcloud, user, project):
    conn = realcloud.connect(user, project)
    snaps = list(conn.block_storage.snapshots(details=True))
    assert all(s.project_id in (None, realcloud.project_id(project)) for s in snaps)
    # the Keystone catalog sends openstacksdk to the Keystone-protected cinder-api
    endpoint = conn.block_storage.get_endpoint()
    assert endpoint.rstrip("/") == (
        f"{realcloud.keystone_cinder_url}/{realcloud.project_id(project)}"
    )


@pytest.mark.parametrize(("user", "project"), WRITERS)
def test_create_goes_available_then_delete_goes_away(realcloud, cleanup, user, project):
    conn = realcloud.connect(user, project)
    volume_id = realcloud.volume_id(project)
    snap = conn.block_storage.create_snapshot(
        volume_id=volume_id, name=_name(f"smoke-{user}"), description="smoke test"
    )
    cleanup(project, snap.id)
    assert snap.status == "creating"
    assert snap.volume_id == volume_id

    snap = realcloud.wait_status(conn, snap.id, "available")
    assert snap.progress == "100%"
    assert snap.project_id == realcloud.project_id(project)
    assert snap.user_id == realcloud.doc["users"][user]["id"]
    assert snap.id in _ids(conn)

    conn.block_storage.delete_snapshot(snap)
    realcloud.wait_gone(conn, snap.id)
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.get_snapshot(snap.id)
    assert snap.id not in _ids(conn)


@pytest.mark.parametrize(("user", "project"), READERS)
def test_reader_cannot_create(realcloud, cleanup, user, project):
    conn = realcloud.connect(user, project)
    with pytest.raises(exceptions.ForbiddenException) as err:
        snap = conn.block_storage.create_snapshot(
            volume_id=realcloud.volume_id(project), name=_name("reader")
        )
        cleanup(project, snap.id)
    assert err.value.status_code == 403


def test_member_reset_status_is_forbidden(realcloud, cleanup):
    admin = realcloud.connect("admin", "alpha")
    member = realcloud.connect("demo", "alpha")
    snap = member.block_storage.create_snapshot(
        volume_id=realcloud.volume_id("alpha"), name=_name("reset")
    )
    cleanup("alpha", snap.id)
    realcloud.wait_status(member, snap.id, "available")

    with pytest.raises(exceptions.ForbiddenException) as err:
        member.block_storage.reset_snapshot_status(snap, "error")
    assert err.value.status_code == 403
    assert member.block_storage.get_snapshot(snap.id).status == "available"

    # the same call as admin works, which shows the 403 came from policy
    admin.block_storage.reset_snapshot_status(snap, "error")
    assert admin.block_storage.get_snapshot(snap.id).status == "error"


def test_admin_lists_all_projects(realcloud, cleanup):
    in_beta = realcloud.connect("admin", "beta")
    snap = in_beta.block_storage.create_snapshot(
        volume_id=realcloud.volume_id("beta"), name=_name("allprojects")
    )
    cleanup("beta", snap.id)
    realcloud.wait_status(in_beta, snap.id, "available")

    admin_alpha = realcloud.connect("admin", "alpha")
    everything = {s.id: s for s in admin_alpha.block_storage.snapshots(all_projects=True)}
    assert snap.id in everything
    assert everything[snap.id].project_id == realcloud.project_id("beta")
    assert snap.id not in _ids(admin_alpha)  # without all_projects: the token's project only

    # a non-admin's all_tenants is silently ignored: 200 with the caller's own project
    demo_alpha = realcloud.connect("demo", "alpha")
    assert snap.id not in _ids(demo_alpha, all_projects=True)


def test_noauth_session_discovers_microversions(realcloud):
    conn = realcloud.noauth("alpha")
    data = conn.block_storage.get_endpoint_data()
    assert data.min_microversion == (3, 0)
    assert data.max_microversion == (3, 71)
    # plain calls work, and resource calls negotiate above 3.0 (user_id arrives at 3.41+)
    vol = conn.block_storage.get_volume(realcloud.volume_id("alpha"))
    assert vol.status == "available"


def test_noauth_and_keystone_flavours_share_one_cinder(realcloud, cleanup):
    noauth = realcloud.noauth("gamma")
    snap = noauth.block_storage.create_snapshot(
        volume_id=realcloud.volume_id("gamma"), name=_name("noauth")
    )
    cleanup("gamma", snap.id)
    assert snap.status == "creating"
    snap = realcloud.wait_status(noauth, snap.id, "available")
    assert snap.user_id == realcloud.doc["users"]["admin"]["id"]

    auditor = realcloud.connect("auditor", "gamma")
    assert auditor.block_storage.get_snapshot(snap.id).name == snap.name

    noauth.block_storage.delete_snapshot(snap)
    realcloud.wait_gone(auditor, snap.id)
