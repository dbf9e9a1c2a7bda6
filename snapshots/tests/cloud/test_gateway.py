"""The gateway against the simulator over HTTP: every call, and every error translation."""

from __future__ import annotations

import socket
import threading

import pytest
from keystoneauth1 import session as ksa_session

from snapshots.cloud import errors
from snapshots.cloud import gateway as gateway_module
from snapshots.cloud.dto import SnapshotData, VolumeData
from snapshots.tests.paging import snapshot_pages


def _available_volume(gateway) -> VolumeData:
    return next(v for v in gateway.list_volumes() if v.status == "available")


def test_a_listed_volume_reads_as_the_same_volume_read_alone(service_gateway):
    listed = service_gateway.list_volumes(all_projects=True)
    assert len({v.project_id for v in listed}) == 3
    assert {v.status for v in listed} >= {"available", "in-use"}
    assert any(v.bootable for v in listed) and any(v.attachments for v in listed)
    for volume in listed:
        assert service_gateway.get_volume(volume.id) == volume


def test_list_returns_our_dataclasses_for_the_project_only(demo, cloud):
    page = demo.list_snapshots(limit=1000)
    assert page.items, "the demo project has snapshots"
    assert all(isinstance(s, SnapshotData) for s in page.items)
    assert {s.project_id for s in page.items} == {cloud.project_id("alpha")}
    assert page.next_marker is None


def test_paging_with_markers_visits_every_snapshot_once(admin):
    everything = admin.list_snapshots(all_projects=True, limit=1000).items
    seen = []
    for page in snapshot_pages(admin, all_projects=True, page_size=7):
        assert len(page.items) <= 7
        seen.extend(s.id for s in page.items)
    assert len(seen) == len(set(seen)) == len(everything)
    assert len(everything) > 7


def test_total_count_and_sort(admin):
    page = admin.list_snapshots(all_projects=True, limit=3, with_count=True, sort="volume_size:asc")
    assert page.count == len(admin.list_snapshots(all_projects=True).items)
    sizes = [s.size for s in admin.list_snapshots(all_projects=True, sort="volume_size:asc").items]
    assert sizes == sorted(sizes)
    assert admin.count_snapshots(all_projects=True) == page.count


def test_all_projects_for_admin_but_not_for_member(admin, demo, cloud):
    projects = {s.project_id for s in admin.list_snapshots(all_projects=True).items}
    assert len(projects) == 3
    # Cinder silently ignores all_tenants from a non-admin.
    mine = {s.project_id for s in demo.list_snapshots(all_projects=True).items}
    assert mine == {cloud.project_id("alpha")}


def test_filters_by_status_name_and_volume(demo):
    everything = demo.list_snapshots().items
    sample = next(s for s in everything if s.status == "available")
    by_status = demo.list_snapshots(status="available").items
    assert by_status and all(s.status == "available" for s in by_status)
    assert [s.id for s in demo.list_snapshots(name=sample.name).items] == [
        s.id for s in everything if s.name == sample.name
    ]
    by_volume = demo.list_snapshots(volume_id=sample.volume_id).items
    assert {s.volume_id for s in by_volume} == {sample.volume_id}


def test_get_create_update_delete_cycle(demo, cloud):
    volume = _available_volume(demo)
    created = demo.create_snapshot(
        volume_id=volume.id, name="nightly", description="before upgrade", metadata={"k": "v"}
    )
    assert created.status == "creating"
    assert created.size == volume.size
    fetched = demo.get_snapshot(created.id)
    assert fetched.project_id == cloud.project_id("alpha")
    assert fetched.metadata == {"k": "v"}

    renamed = demo.update_snapshot(created.id, name="nightly-2", description="")
    assert renamed.name == "nightly-2"

    cloud.advance(60)
    assert demo.get_snapshot(created.id).status == "available"
    demo.delete_snapshot(created.id)
    assert demo.get_snapshot(created.id).status == "deleting"
    cloud.advance(60)
    with pytest.raises(errors.NotFound):
        demo.get_snapshot(created.id)


def test_in_use_volume_needs_force_below_3_66(demo):
    assert demo.snapshot_microversion() == "3.65"
    assert demo.in_use_needs_force()
    in_use = next(v for v in demo.list_volumes() if v.status == "in-use")
    with pytest.raises(errors.BadRequest) as refused:
        demo.create_snapshot(volume_id=in_use.id, name="no-force")
    assert "in-use" in refused.value.message
    assert demo.create_snapshot(volume_id=in_use.id, name="forced", force=True).status == "creating"


def test_metadata_merge_and_delete_carry_cinders_answer(demo):
    snap = next(s for s in demo.list_snapshots().items if s.status == "available")
    merged = demo.set_snapshot_metadata(snap.id, {"team": "db", "tier": "gold"})
    assert merged["team"] == "db" and merged["tier"] == "gold"
    assert set(snap.metadata) <= set(merged)
    after_delete = demo.delete_snapshot_metadata(snap.id, ["tier"])
    assert "tier" not in after_delete and after_delete["team"] == "db"
    assert demo.get_snapshot_metadata(snap.id) == after_delete
    assert merged.receipt.status_code == 200 and merged.receipt.request_id.startswith("req-")
    assert after_delete.receipt.status_code == 200
    with pytest.raises(errors.BadRequest):
        demo.set_snapshot_metadata(snap.id, {"bad/key": "x"})


def test_admin_repairs(admin, cloud):
    snap = next(s for s in admin.list_snapshots(all_projects=True).items if s.status == "available")
    admin.reset_snapshot_status(snap.id, "error")
    assert admin.get_snapshot(snap.id).status == "error"
    admin.reset_snapshot_status(snap.id, "creating")
    admin.set_snapshot_status(snap.id, "creating", progress=40)
    assert admin.get_snapshot(snap.id).progress == 40
    admin.set_snapshot_status(snap.id, "available", progress=100)
    assert admin.get_snapshot(snap.id).status == "available"
    admin.reset_snapshot_status(snap.id, "error_deleting")
    admin.force_delete_snapshot(snap.id)
    cloud.advance(60)
    with pytest.raises(errors.NotFound):
        admin.get_snapshot(snap.id)


def test_policy_refusals_become_forbidden(demo, reader):
    snap = next(s for s in demo.list_snapshots().items if s.status == "available")
    with pytest.raises(errors.Forbidden) as member_refused:
        demo.reset_snapshot_status(snap.id, "error")
    assert member_refused.value.status_code == 403
    assert "Not permitted" in member_refused.value.user_message()
    with pytest.raises(errors.Forbidden):
        demo.force_delete_snapshot(snap.id)
    with pytest.raises(errors.Forbidden):
        reader.create_snapshot(volume_id=snap.volume_id, name="reader-try")


def test_bad_requests_carry_cinders_message_and_request_id(demo):
    creating = next(
        (s for s in demo.list_snapshots().items if s.status == "creating"), None
    ) or demo.create_snapshot(volume_id=_available_volume(demo).id, name="busy")
    with pytest.raises(errors.BadRequest) as refused:
        demo.delete_snapshot(creating.id)
    assert refused.value.status_code == 400
    assert "available" in refused.value.message.lower()
    assert refused.value.request_id.startswith("req-")
    assert refused.value.request_id in refused.value.user_message()
    with pytest.raises(errors.BadRequest):
        demo.update_snapshot(creating.id, description="line\nbreak")


def test_another_projects_snapshot_is_not_found(user_gateway, cloud):
    gamma = user_gateway("admin", "gamma").list_snapshots().items[0]
    with pytest.raises(errors.NotFound):
        user_gateway("demo", "alpha").get_snapshot(gamma.id)


def test_quota_becomes_over_quota(demo, cloud):
    cloud.set_quota("alpha", snapshots=0)
    with pytest.raises(errors.OverQuota) as refused:
        demo.create_snapshot(volume_id=_available_volume(demo).id, name="too-many")
    assert refused.value.status_code == 413


def test_outage_and_errors_become_unavailable(demo, cloud):
    cloud.faults(cinder_down=True)
    with pytest.raises(errors.Unavailable):
        demo.list_snapshots()
    cloud.faults(cinder_down=False, error_rate=1.0, error_status=500)
    with pytest.raises(errors.Unavailable):
        demo.get_limits()


def test_unreachable_endpoint_is_unavailable(settings):
    from snapshots.cloud.gateway import Gateway

    gateway = Gateway.for_token(
        token="x", endpoint="http://127.0.0.1:9/volume/v3/abc", project_id="abc", timeout=2
    )
    with pytest.raises(errors.Unavailable):
        gateway.list_snapshots()


def test_slow_cloud_times_out_as_unavailable(cloud):
    from snapshots.cloud.credentials import keystone
    from snapshots.cloud.gateway import Gateway

    ks = keystone()
    scoped = ks.scope(ks.password("demo", "secret", "Default").token, cloud.project_id("alpha"))
    gateway = Gateway.for_token(
        token=scoped.token,
        endpoint=scoped.cinder_endpoint,
        project_id=scoped.project_id,
        timeout=0.5,
    )
    gateway.list_snapshots(limit=1)  # discovery done while the cloud is fast
    cloud.faults(latency_ms=1500)
    with pytest.raises(errors.Unavailable):
        gateway.list_snapshots(limit=1)


def test_revoked_token_becomes_not_authenticated(cloud):
    from snapshots.cloud.credentials import keystone
    from snapshots.cloud.gateway import Gateway

    ks = keystone()
    scoped = ks.scope(ks.password("demo", "secret", "Default").token, cloud.project_id("alpha"))
    gateway = Gateway.for_token(
        token=scoped.token, endpoint=scoped.cinder_endpoint, project_id=scoped.project_id
    )
    gateway.list_snapshots(limit=1)
    ks.revoke(scoped.token)
    with pytest.raises(errors.NotAuthenticated):
        gateway.list_snapshots(limit=1)


def test_microversion_is_negotiated_once_not_per_call(demo, user_gateway, cloud):
    demo.list_snapshots(limit=1)  # the first call of the process may discover versions
    cloud.reset_stats()
    for _ in range(3):
        demo.list_snapshots(limit=1)
    demo.get_limits()
    user_gateway("demo", "alpha").list_snapshots(limit=1)  # a new connection, same endpoint
    routes = cloud.stats()["by_route"]
    discovery = {r: n for r, n in routes.items() if r.startswith("GET /volume") and "{" not in r}
    assert discovery == {}, routes
    assert routes["GET /volume/v3/{project_id}/snapshots/detail"] == 4


def test_service_gateway_from_clouds_yaml(service_gateway, cloud):
    project_id, name = service_gateway.current_project()
    assert project_id == cloud.project_id("alpha")
    assert name == "alpha"
    assert {p.name for p in service_gateway.list_projects()} >= {"alpha", "beta", "gamma"}
    volumes = list(service_gateway.iter_volumes(all_projects=True, page_size=5))
    assert len({v.project_id for v in volumes}) == 3
    assert len(volumes) == len({v.id for v in volumes})


def test_noauth_connection_negotiates_microversions(cloud):
    """A standalone Cinder without Keystone: token `user:project`, fixed endpoint."""
    from snapshots.cloud.gateway import Gateway

    token = cloud.token("admin", "alpha")
    endpoint = cloud.volume_endpoint("alpha")
    gateway = Gateway.for_noauth(endpoint=endpoint, token=token)
    assert gateway.max_microversion() == "3.71"
    assert gateway.list_snapshots(limit=2).items


def test_projects_are_an_empty_list_where_there_is_no_identity_endpoint(demo, cloud):
    # A user's gateway knows only Cinder's endpoint; the sync uses the service gateway.
    assert demo.list_projects() == []


# --- what a failed change means: nothing changed, or unknown ---------------------------------
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _failure(url: str, timeout: float = 1.0) -> Exception:
    """The exception keystoneauth raises for a request to `url` (what the gateway sees)."""
    with pytest.raises(Exception) as info:
        ksa_session.Session(timeout=timeout).post(url, json={})
    return info.value


def test_a_change_refused_at_connect_provably_changed_nothing():
    failure = _failure(f"http://127.0.0.1:{_closed_port()}/v3/snapshots")
    assert type(gateway_module._translated(failure, sent_change=True)) is errors.Unavailable


def test_a_change_sent_but_never_answered_has_an_unknown_outcome():
    with socket.socket() as server:  # accepts connections (backlog) but never answers
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        failure = _failure(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=0.5)
    assert isinstance(gateway_module._translated(failure, sent_change=True), errors.OutcomeUnknown)
    # The same silence on a read changes nothing: the cloud is just unavailable.
    assert type(gateway_module._translated(failure, sent_change=False)) is errors.Unavailable


def test_a_connection_dropped_after_the_request_was_sent_has_an_unknown_outcome():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def read_then_hang_up() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=read_then_hang_up, daemon=True)
    thread.start()
    failure = _failure(f"http://127.0.0.1:{server.getsockname()[1]}/")
    thread.join(5)
    server.close()
    assert isinstance(gateway_module._translated(failure, sent_change=True), errors.OutcomeUnknown)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_answer_to_a_change_is_unknown(status):
    assert isinstance(errors.from_status(status, "", sent_change=True), errors.OutcomeUnknown)
    assert type(errors.from_status(status, "")) is errors.Unavailable


@pytest.mark.parametrize("status", [400, 403, 404, 409, 413])
def test_a_4xx_answer_to_a_change_changed_nothing(status):
    assert not isinstance(errors.from_status(status, "", sent_change=True), errors.OutcomeUnknown)


def test_changes_carry_cinders_status_and_request_id(demo, admin):
    volume = _available_volume(demo)
    created = demo.create_snapshot(volume_id=volume.id, name="with-receipt")
    assert created.receipt.status_code == 202 and created.receipt.request_id.startswith("req-")
    deleted = admin.force_delete_snapshot(created.id)
    assert deleted.status_code == 202 and deleted.request_id.startswith("req-")
