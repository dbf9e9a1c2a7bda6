"""The dashboard's cinder gateway against a real Cinder 29 + Keystone 30.

Users sign in the way the dashboard does (snapshots.cloud.identity: password, then a project-scoped
token and the catalog's block-storage endpoint) and get `Gateway.for_token`; the service account is
`Gateway.for_cloud` on the clouds.yaml that cloud.py wrote; the standalone mode is
`Gateway.for_noauth`. Every gateway call is made, and Cinder's real 400/403/404/413 and Keystone's
real 401 must come out as the project's own error classes with Cinder's message and request id.

Volume use (so tests do not disturb each other): index 0 is the smoke tests', index 1 the
create/update/delete tests', index 2 holds the paging set (alpha) or becomes in-use (gamma).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import datetime

import pytest
import requests

from snapshots.cloud import errors
from snapshots.cloud.dto import Limits, SnapshotData, SnapshotPage, VolumeData
from snapshots.cloud.gateway import SORT_KEYS, Gateway
from snapshots.cloud.identity import Keystone
from snapshots.tests.cloud.users import alpha_users
from snapshots.tests.paging import snapshot_pages

PAGING_NAMES = ["page-c", "page-a", "page-e", "page-b", "page-d"]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _wait(gw: Gateway, snapshot_id: str, status: str, timeout: float = 60) -> SnapshotData:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = gw.get_snapshot(snapshot_id)
        if snap.status == status:
            return snap
        time.sleep(0.2)
    raise AssertionError(f"{snapshot_id} is {snap.status}, not {status}, after {timeout} s")


def _wait_gone(gw: Gateway, snapshot_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            gw.get_snapshot(snapshot_id)
        except errors.NotFound:
            return
        time.sleep(0.2)
    raise AssertionError(f"{snapshot_id} still there after {timeout} s")


def _assert_cinder_error(exc: errors.CloudError, status: int, text: str = "") -> None:
    assert exc.status_code == status
    assert exc.request_id.startswith("req-"), exc.request_id
    assert exc.message and exc.message != exc.title
    if text:
        assert text.lower() in exc.message.lower(), exc.message


# ----------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def keystone(realcloud) -> Keystone:
    return Keystone(realcloud.keystone_url, region=realcloud.region)


@pytest.fixture(scope="session")
def gateway(realcloud, keystone):
    """gateway(user, project): signed in like the dashboard's keystone mode does it."""
    cache: dict[tuple[str, str], Gateway] = {}

    def make(user: str, project: str) -> Gateway:
        if (user, project) not in cache:
            unscoped = keystone.password(user, realcloud.password(user), "Default")
            scoped = keystone.scope(unscoped.token, realcloud.project_id(project))
            cache[user, project] = Gateway.for_token(
                token=scoped.token, endpoint=scoped.cinder_endpoint, project_id=scoped.project_id
            )
        return cache[user, project]

    return make


@pytest.fixture(scope="session")
def noauth_gateway(realcloud):
    def make(project: str) -> Gateway:
        token = f"{realcloud.doc['users']['admin']['id']}:{realcloud.project_id(project)}"
        return Gateway.for_noauth(endpoint=realcloud.noauth_endpoint(project), token=token)

    return make


@pytest.fixture(scope="session")
def service(realcloud) -> Gateway:
    return Gateway.for_cloud(realcloud.doc["service_cloud"], config_file=realcloud.clouds_yaml)


demo, admin, reader = alpha_users("gateway")


@pytest.fixture
def snapshot(realcloud, demo, cleanup):
    """A fresh available snapshot of alpha's volume 1, made by demo."""
    snap = demo.create_snapshot(volume_id=realcloud.volume_id("alpha", 1), name=_name("gw"))
    cleanup("alpha", snap.id)
    return _wait(demo, snap.id, "available")


@pytest.fixture(scope="module")
def paging_set(realcloud, gateway):
    """Five available snapshots of alpha's volume 2, named out of order, for paging and sorting."""
    demo = gateway("demo", "alpha")
    volume_id = realcloud.volume_id("alpha", 2)
    made = []
    try:
        for name in PAGING_NAMES:
            made.append(demo.create_snapshot(volume_id=volume_id, name=name).id)
        snaps = [_wait(demo, sid, "available") for sid in made]
        yield volume_id, snaps
    finally:
        for sid in made:
            with contextlib.suppress(errors.CloudError):
                demo.delete_snapshot(sid)
        for sid in made:
            with contextlib.suppress(AssertionError, errors.CloudError):
                _wait_gone(demo, sid)


# ----------------------------------------------------------------------------------------------
# Construction and microversions


def test_user_gateway_negotiates_the_real_microversions(demo):
    assert demo.max_microversion() == "3.71"
    assert demo.snapshot_microversion() == "3.65"
    assert demo.in_use_needs_force() is True
    assert demo.supports("3.45") and demo.supports("3.71")
    assert not demo.supports("3.72")


def test_noauth_gateway_negotiates_the_real_microversions(noauth_gateway):
    gw = noauth_gateway("alpha")
    assert gw.max_microversion() == "3.71"
    assert gw.snapshot_microversion() == "3.65"
    assert "token" not in repr(gw) and ":" not in repr(gw).split("noauth", 1)[0]


def test_sign_in_scopes_and_finds_the_block_storage_endpoint(realcloud, keystone):
    unscoped = keystone.password("demo", "secret", "Default")
    assert [p.name for p in keystone.projects(unscoped.token)] == ["alpha", "beta"]
    scoped = keystone.scope(unscoped.token, realcloud.project_id("beta"))
    assert scoped.cinder_endpoint == (
        f"{realcloud.keystone_cinder_url}/{realcloud.project_id('beta')}"
    )
    assert set(scoped.roles) == {"member", "reader"}
    with pytest.raises(errors.BadCredentials):
        keystone.password("demo", "wrong", "Default")


def test_service_gateway_from_clouds_yaml(realcloud, service):
    assert service.current_project() == (realcloud.project_id("admin"), "admin")
    assert service.max_microversion() == "3.71"
    names = {p.name for p in service.list_projects()}
    assert {"alpha", "beta", "gamma"} <= names
    volumes = service.list_volumes(all_projects=True)
    assert {v.project_id for v in volumes} >= {
        realcloud.project_id(p) for p in ("alpha", "beta", "gamma")
    }


@pytest.mark.parametrize("flavour", ["user", "noauth"])
def test_project_names_without_identity_access(demo, noauth_gateway, flavour):
    """A token-and-endpoint connection sends the identity call to Cinder itself (the auth plugin
    gives every service the same endpoint), which answers 404. The sync only needs a CloudError
    or an empty list here, never an openstacksdk exception."""
    gw = demo if flavour == "user" else noauth_gateway("alpha")
    try:
        assert gw.list_projects() == []
    except errors.NotFound as exc:
        assert exc.status_code == 404


# ----------------------------------------------------------------------------------------------
# Reads


def test_get_snapshot_returns_every_field(realcloud, demo, snapshot):
    got = demo.get_snapshot(snapshot.id)
    assert isinstance(got, SnapshotData)
    assert got.status == "available"
    assert got.progress == 100
    assert got.project_id == realcloud.project_id("alpha")
    assert got.user_id == realcloud.doc["users"]["demo"]["id"]
    assert got.volume_id == realcloud.volume_id("alpha", 1)
    assert got.size == 1
    assert got.consumes_quota is True
    assert got.group_snapshot_id == ""
    assert got.created_at.tzinfo is not None and got.updated_at is not None
    assert got.updated_at >= got.created_at
    assert isinstance(got.created_at, datetime)


def test_list_is_scoped_to_the_token_project(realcloud, gateway, snapshot):
    for user, project, _role in realcloud.user_projects():
        page = gateway(user, project).list_snapshots()
        assert isinstance(page, SnapshotPage)
        assert {s.project_id for s in page.items} <= {realcloud.project_id(project)}
        assert (snapshot.id in {s.id for s in page.items}) == (project == "alpha")


def test_unknown_and_foreign_snapshots_are_not_found(realcloud, gateway, snapshot):
    with pytest.raises(errors.NotFound) as missing:
        gateway("demo", "alpha").get_snapshot(str(uuid.uuid4()))
    _assert_cinder_error(missing.value, 404, "could not be found")
    # demo is a member of beta too, but a beta-scoped token does not see alpha's snapshot
    with pytest.raises(errors.NotFound) as foreign:
        gateway("demo", "beta").get_snapshot(snapshot.id)
    _assert_cinder_error(foreign.value, 404)
    # ... nor may it delete it (404, not 403)
    with pytest.raises(errors.NotFound):
        gateway("demo", "beta").delete_snapshot(snapshot.id)


def test_paging_visits_every_snapshot_once(demo, paging_set):
    volume_id, snaps = paging_set
    pages = list(snapshot_pages(demo, all_projects=False, page_size=2, volume_id=volume_id))
    sizes = [len(p.items) for p in pages]
    assert sizes[:3] == [2, 2, 1] and sum(sizes) == 5
    assert pages[-1].next_marker is None
    seen = [s.id for p in pages for s in p.items]
    assert sorted(seen) == sorted(s.id for s in snaps)
    # a page that is exactly full still has a marker; the next page is empty and ends the walk
    exact = list(snapshot_pages(demo, all_projects=False, page_size=5, volume_id=volume_id))
    assert [len(p.items) for p in exact] in ([5], [5, 0])
    # one page at a time with an explicit marker
    first = demo.list_snapshots(limit=2, volume_id=volume_id, sort="name:asc")
    second = demo.list_snapshots(
        limit=2, volume_id=volume_id, sort="name:asc", marker=first.next_marker
    )
    assert [s.name for s in first.items + second.items] == ["page-a", "page-b", "page-c", "page-d"]


def test_admin_pages_through_all_projects(realcloud, admin, gateway, paging_set, cleanup):
    beta = gateway("admin", "beta")
    other = beta.create_snapshot(volume_id=realcloud.volume_id("beta", 1), name=_name("gw-beta"))
    cleanup("beta", other.id)
    _wait(beta, other.id, "available")
    everything = admin.list_snapshots(all_projects=True).items
    seen = [s.id for p in snapshot_pages(admin, page_size=2) for s in p.items]
    assert len(seen) == len(set(seen)) == len(everything) >= 6
    assert other.id in seen
    assert {realcloud.project_id("alpha"), realcloud.project_id("beta")} <= {
        s.project_id for s in everything
    }


def test_counts(demo, admin, paging_set):
    volume_id, _snaps = paging_set
    page = demo.list_snapshots(limit=2, with_count=True, volume_id=volume_id)
    assert page.count == 5 and len(page.items) == 2 and page.next_marker
    assert demo.count_snapshots(volume_id=volume_id) == 5
    assert admin.count_snapshots(all_projects=True) == len(
        admin.list_snapshots(all_projects=True).items
    )


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_sort_key_is_accepted_and_orders(demo, paging_set, key, direction):
    volume_id, _snaps = paging_set
    items = demo.list_snapshots(volume_id=volume_id, sort=f"{key}:{direction}").items
    assert len(items) == 5
    attr = {"display_name": "name", "volume_size": "size"}.get(key, key)
    values = [getattr(s, attr) for s in items]
    assert values == sorted(values, reverse=direction == "desc")


def test_sort_by_name_and_by_several_keys(demo, paging_set):
    volume_id, _snaps = paging_set
    names = [s.name for s in demo.list_snapshots(volume_id=volume_id, sort="name:desc").items]
    assert names == sorted(PAGING_NAMES, reverse=True)
    two_keys = demo.list_snapshots(volume_id=volume_id, sort="status:asc,name:asc").items
    assert [s.name for s in two_keys] == sorted(PAGING_NAMES)


@pytest.mark.parametrize(
    ("sort", "text"),
    [("size:asc", "sort key"), ("description:asc", "sort key"), ("name:sideways", "sort")],
)
def test_bad_sort_is_a_bad_request(demo, sort, text):
    with pytest.raises(errors.BadRequest) as refused:
        demo.list_snapshots(sort=sort)
    _assert_cinder_error(refused.value, 400, text)


def test_filters(realcloud, demo, admin, paging_set):
    volume_id, snaps = paging_set
    by_name = demo.list_snapshots(name="page-b").items
    assert [s.id for s in by_name] == [s.id for s in snaps if s.name == "page-b"]
    assert {s.volume_id for s in demo.list_snapshots(volume_id=volume_id).items} == {volume_id}
    assert len(demo.list_snapshots(volume_id=volume_id, status="available").items) == 5
    assert demo.list_snapshots(volume_id=volume_id, status="error").items == []
    assert demo.list_snapshots(status="AVAILABLE").items == []  # exact, case-sensitive
    # an admin narrows all projects down to one
    only_alpha = admin.list_snapshots(all_projects=True, project_id=realcloud.project_id("alpha"))
    assert only_alpha.items
    assert {s.project_id for s in only_alpha.items} == {realcloud.project_id("alpha")}


def test_member_project_filter_is_a_bad_request(realcloud, demo):
    with pytest.raises(errors.BadRequest) as refused:
        demo.list_snapshots(project_id=realcloud.project_id("alpha"))
    _assert_cinder_error(refused.value, 400, "invalid filters")


def test_member_all_projects_is_ignored(realcloud, demo, gateway, cleanup):
    beta = gateway("admin", "beta")
    other = beta.create_snapshot(volume_id=realcloud.volume_id("beta", 1), name=_name("hidden"))
    cleanup("beta", other.id)
    projects = {s.project_id for s in demo.list_snapshots(all_projects=True).items}
    assert projects <= {realcloud.project_id("alpha")}


# ----------------------------------------------------------------------------------------------
# Writes


def test_create_update_delete(realcloud, demo, cleanup):
    volume_id = realcloud.volume_id("alpha", 1)
    created = demo.create_snapshot(
        volume_id=volume_id,
        name="  padded  ",
        description="before the upgrade",
        metadata={"owner": "ops", "path": "a/b"},
    )
    cleanup("alpha", created.id)
    assert created.status == "creating"
    assert created.name == "padded"  # Cinder strips the name after validating it
    assert created.metadata == {"owner": "ops", "path": "a/b"}
    snap = _wait(demo, created.id, "available")
    assert snap.description == "before the upgrade"

    renamed = demo.update_snapshot(snap.id, name="after", description="")
    assert (renamed.name, renamed.description) == ("after", "")
    assert renamed.progress == 100  # read back whole, with the extended attributes
    with pytest.raises(errors.BadRequest):
        demo.update_snapshot(snap.id)

    demo.delete_snapshot(snap.id)
    _wait_gone(demo, snap.id)
    with pytest.raises(errors.NotFound):
        demo.delete_snapshot(snap.id)


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"description": "two\nlines"}, "description"),
        ({"name": "x" * 256}, "name"),
        ({"metadata": {"bad@key": "v"}}, "metadata"),
    ],
)
def test_invalid_create_is_a_bad_request(realcloud, demo, kwargs, text):
    with pytest.raises(errors.BadRequest) as refused:
        demo.create_snapshot(volume_id=realcloud.volume_id("alpha", 1), **kwargs)
    _assert_cinder_error(refused.value, 400, text)


def test_create_from_unknown_volume_is_not_found(demo):
    with pytest.raises(errors.NotFound) as refused:
        demo.create_snapshot(volume_id=str(uuid.uuid4()), name="nowhere")
    _assert_cinder_error(refused.value, 404, "volume")


def test_reader_may_read_but_not_write(realcloud, reader, snapshot):
    assert reader.get_snapshot(snapshot.id).id == snapshot.id
    assert reader.get_snapshot_metadata(snapshot.id) == {}
    with pytest.raises(errors.Forbidden) as refused:
        reader.create_snapshot(volume_id=realcloud.volume_id("alpha", 1), name="no")
    _assert_cinder_error(refused.value, 403)
    with pytest.raises(errors.Forbidden):
        reader.update_snapshot(snapshot.id, name="no")
    with pytest.raises(errors.Forbidden):
        reader.set_snapshot_metadata(snapshot.id, {"k": "v"})
    with pytest.raises(errors.Forbidden):
        reader.delete_snapshot(snapshot.id)


def test_metadata_calls(demo, snapshot):
    assert demo.get_snapshot_metadata(snapshot.id) == {}
    assert demo.set_snapshot_metadata(snapshot.id, {"a": "1", "b": "2"}) == {"a": "1", "b": "2"}
    assert demo.set_snapshot_metadata(snapshot.id, {"c": "3"}) == {"a": "1", "b": "2", "c": "3"}
    assert demo.delete_snapshot_metadata(snapshot.id, ["a", "c"]) == {"b": "2"}
    assert demo.get_snapshot(snapshot.id).metadata == {"b": "2"}
    with pytest.raises(errors.NotFound):
        demo.delete_snapshot_metadata(snapshot.id, ["missing"])
    with pytest.raises(errors.BadRequest):  # "/" is allowed on create, not here
        demo.set_snapshot_metadata(snapshot.id, {"a/b": "v"})


def test_delete_in_the_wrong_state_is_a_bad_request(demo, admin, snapshot):
    admin.reset_snapshot_status(snapshot.id, "creating")
    with pytest.raises(errors.BadRequest) as refused:
        demo.delete_snapshot(snapshot.id)
    _assert_cinder_error(refused.value, 400, "status must be available or error")


def test_admin_repairs(demo, admin, snapshot):
    admin.reset_snapshot_status(snapshot.id, "error_deleting")
    assert demo.get_snapshot(snapshot.id).status == "error_deleting"
    with pytest.raises(errors.BadRequest) as bad:
        admin.reset_snapshot_status(snapshot.id, "bogus")
    _assert_cinder_error(bad.value, 400)
    admin.force_delete_snapshot(snapshot.id)
    _wait_gone(demo, snapshot.id)


def test_member_may_not_repair(demo, snapshot):
    with pytest.raises(errors.Forbidden) as reset:
        demo.reset_snapshot_status(snapshot.id, "error")
    _assert_cinder_error(reset.value, 403)
    with pytest.raises(errors.Forbidden):
        demo.force_delete_snapshot(snapshot.id)
    assert demo.get_snapshot(snapshot.id).status == "available"


def test_set_status_and_progress(demo, admin, snapshot):
    admin.reset_snapshot_status(snapshot.id, "creating")
    demo.set_snapshot_status(snapshot.id, "creating", progress=40)
    got = demo.get_snapshot(snapshot.id)
    assert (got.status, got.progress) == ("creating", 40)
    demo.set_snapshot_status(snapshot.id, "available", progress=100)
    assert demo.get_snapshot(snapshot.id).status == "available"
    with pytest.raises(errors.BadRequest) as refused:  # available -> error is not allowed
        demo.set_snapshot_status(snapshot.id, "error")
    _assert_cinder_error(refused.value, 400, "not allowed")


def test_quota_refusal_is_over_quota(realcloud, gateway, noauth_gateway):
    project = realcloud.project_id("gamma")
    url = f"{realcloud.noauth_endpoint('gamma')}/os-quota-sets/{project}"
    headers = {"X-Auth-Token": f"{realcloud.doc['users']['admin']['id']}:{project}"}
    used = len(noauth_gateway("gamma").list_snapshots().items)
    resp = requests.put(url, json={"quota_set": {"snapshots": used}}, headers=headers, timeout=15)
    assert resp.status_code == 200, resp.text
    try:
        with pytest.raises(errors.OverQuota) as refused:
            gateway("admin", "gamma").create_snapshot(
                volume_id=realcloud.volume_id("gamma", 1), name="over"
            )
        _assert_cinder_error(refused.value, 413, "exceeded")
    finally:
        resp = requests.put(url, json={"quota_set": {"snapshots": -1}}, headers=headers, timeout=15)
        assert resp.status_code == 200, resp.text


def test_in_use_volume_needs_force_below_3_66(realcloud, gateway, cleanup):
    """Attach gamma's volume 2 (a reserved attachment, then in-use) and snapshot it."""
    project = realcloud.project_id("gamma")
    volume_id = realcloud.volume_id("gamma", 2)
    base = realcloud.noauth_endpoint("gamma")
    headers = {
        "X-Auth-Token": f"{realcloud.doc['users']['admin']['id']}:{project}",
        "OpenStack-API-Version": "volume 3.27",
    }
    resp = requests.post(
        f"{base}/attachments",
        json={"attachment": {"volume_uuid": volume_id, "instance_uuid": str(uuid.uuid4())}},
        headers=headers,
        timeout=15,
    )
    assert resp.status_code == 200, resp.text
    attachment_id = resp.json()["attachment"]["id"]
    member = gateway("admin", "gamma")
    try:
        reset = {"os-reset_status": {"status": "in-use"}}
        resp = requests.post(
            f"{base}/volumes/{volume_id}/action", json=reset, headers=headers, timeout=15
        )
        assert resp.status_code == 202, resp.text
        assert _volume(member, volume_id).status == "in-use"
        with pytest.raises(errors.BadRequest) as refused:
            member.create_snapshot(volume_id=volume_id, name="unforced")
        _assert_cinder_error(refused.value, 400, "in-use")
        snap = member.create_snapshot(volume_id=volume_id, name="forced", force=True)
        cleanup("gamma", snap.id)
        _wait(member, snap.id, "available")
        member.delete_snapshot(snap.id)
        _wait_gone(member, snap.id)
    finally:
        requests.delete(f"{base}/attachments/{attachment_id}", headers=headers, timeout=15)
        reset = {"os-reset_status": {"status": "available", "attach_status": "detached"}}
        requests.post(f"{base}/volumes/{volume_id}/action", json=reset, headers=headers, timeout=15)


# ----------------------------------------------------------------------------------------------
# Volumes, limits, auth and outage


def test_volumes(realcloud, demo, admin):
    mine = demo.list_volumes()
    assert all(isinstance(v, VolumeData) for v in mine)
    assert {v.name for v in mine} == {v["name"] for v in realcloud.volumes("alpha")}
    assert {v.project_id for v in mine} == {realcloud.project_id("alpha")}
    assert all(v.status == "available" and v.size == 1 for v in mine)
    vol = _volume(demo, realcloud.volume_id("alpha"))
    assert (vol.volume_type, vol.bootable, vol.attachments) == ("__DEFAULT__", False, 0)
    assert vol.availability_zone == "nova"
    everything = admin.list_volumes(all_projects=True)
    paged = list(admin.iter_volumes(page_size=2))
    assert sorted(v.id for v in paged) == sorted(v.id for v in everything)
    assert len(everything) >= 9


def _volume(gateway, volume_id: str):
    return next(v for v in gateway.list_volumes() if v.id == volume_id)


def test_limits(demo, snapshot):
    limits = demo.get_limits()
    assert isinstance(limits, Limits)
    assert limits.max_snapshots == -1  # unlimited in this cloud
    assert limits.used_snapshots >= 1


def test_bad_token_is_not_authenticated(realcloud):
    project = realcloud.project_id("alpha")
    gw = Gateway.for_token(
        token="gAAAAA-not-a-token",
        endpoint=f"{realcloud.keystone_cinder_url}/{project}",
        project_id=project,
    )
    with pytest.raises(errors.NotAuthenticated):
        gw.list_snapshots()


def test_revoked_token_is_not_authenticated(realcloud, keystone):
    """Signed out before Cinder ever saw the token: Keystone's real 401 through authtoken.

    (A token Cinder has already validated stays accepted after the revocation until
    keystonemiddleware's token cache expires, 300 s by default: sign-out must drop the token
    from the session, it cannot rely on the revocation alone.)
    """
    unscoped = keystone.password("demo", "secret", "Default")
    scoped = keystone.scope(unscoped.token, realcloud.project_id("beta"))
    keystone.revoke(scoped.token)
    gw = Gateway.for_token(
        token=scoped.token, endpoint=scoped.cinder_endpoint, project_id=scoped.project_id
    )
    with pytest.raises(errors.NotAuthenticated) as refused:
        gw.list_snapshots()
    assert refused.value.status_code == 401


def test_closed_port_is_unavailable(realcloud):
    port = realcloud.doc["ports"]["cinder_noauth"] + 100
    gw = Gateway.for_noauth(
        endpoint=f"http://127.0.0.1:{port}/v3/{'0' * 32}", token="a:b", timeout=2
    )
    with pytest.raises(errors.Unavailable):
        gw.list_snapshots()


# ----------------------------------------------------------------------------------------------
# User messages: the text and event id the simulator writes are cinder's


def test_failed_schedule_leaves_the_user_message_the_simulator_writes(realcloud, demo):
    """A volume type no backend reports makes the scheduler fail the create (NoValidBackend):
    cinder 29 records the user message the simulator writes for a failed volume create."""
    from cloudsim.store_workflows import VOLUME_SCHEDULE_FAILED

    project = realcloud.project_id("alpha")
    base = f"{realcloud.noauth_url}/{project}"
    headers = {"X-Auth-Token": f"admin:{project}", "OpenStack-API-Version": "volume 3.71"}
    kind = {"name": _name("nowhere"), "extra_specs": {"volume_backend_name": "nowhere"}}
    made = requests.post(f"{base}/types", json={"volume_type": kind}, headers=headers, timeout=15)
    assert made.status_code == 200, made.text
    type_id = made.json()["volume_type"]["id"]
    volume_id = ""
    try:
        body = {"volume": {"size": 1, "name": _name("unplaced"), "volume_type": kind["name"]}}
        created = requests.post(f"{base}/volumes", json=body, headers=headers, timeout=15)
        assert created.status_code == 202, created.text
        volume_id = created.json()["volume"]["id"]
        deadline = time.monotonic() + 60
        while (status := _volume(demo, volume_id).status) == "creating":
            assert time.monotonic() < deadline, "the create was never scheduled"
            time.sleep(0.2)
        assert status == "error"
        (message,) = demo.list_messages(resource_uuid=volume_id)
        resource_type, event_id, text = VOLUME_SCHEDULE_FAILED
        assert (message.resource_type, message.event_id) == (resource_type, event_id)
        assert message.user_message == text
        assert message.message_level == "ERROR"
    finally:
        if volume_id:
            requests.delete(f"{base}/volumes/{volume_id}", headers=headers, timeout=15)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(
                v.id == volume_id for v in demo.list_volumes()
            ):
                time.sleep(0.2)
        requests.delete(f"{base}/types/{type_id}", headers=headers, timeout=15)
