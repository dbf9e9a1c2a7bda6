"""Gateway calls of the snapshot workflows, against the simulator over HTTP."""

from __future__ import annotations

import pytest

from snapshots.cloud import errors
from snapshots.cloud.dto import ManageableSnapshotData, MessageData, QuotaUsage, VolumeData

HOST = "cloudsim@lvm"


def fresh_snapshot(gateway, cloud, size=2):
    vol = cloud.create_volume("alpha", size=size, name="src")
    snap = gateway.create_snapshot(volume_id=vol["id"], name="base")
    cloud.advance(5)
    return vol, gateway.get_snapshot(snap.id)


def test_create_volume_from_a_snapshot(demo, cloud):
    _vol, snap = fresh_snapshot(demo, cloud)
    made, receipt = demo.create_volume(snapshot_id=snap.id, size=3, name="copy", description="d")
    assert isinstance(made, VolumeData)
    assert (receipt.status_code, receipt.request_id[:4]) == (202, "req-")
    assert (made.status, made.size, made.source_snapshot_id) == ("creating", 3, snap.id)
    cloud.advance(5)
    assert demo.get_volume(made.id).status == "available"
    with pytest.raises(errors.BadRequest) as small:
        demo.create_volume(snapshot_id=snap.id, size=1)
    assert "cannot be smaller" in small.value.message


def test_create_volume_over_quota_is_over_limit(demo, cloud):
    _vol, snap = fresh_snapshot(demo, cloud)
    cloud.set_quota("alpha", gigabytes=1)
    with pytest.raises(errors.OverQuota) as refused:
        demo.create_volume(snapshot_id=snap.id, size=2)
    assert "gigabytes quota" in refused.value.message


def test_revert_and_its_refusals(demo, reader, cloud):
    vol, snap = fresh_snapshot(demo, cloud)
    with pytest.raises(errors.Forbidden):
        reader.revert_volume_to_snapshot(vol["id"], snap.id)
    assert demo.revert_volume_to_snapshot(vol["id"], snap.id).status_code == 202
    assert demo.get_volume(vol["id"]).status == "reverting"
    assert demo.get_snapshot(snap.id).status == "restoring"
    with pytest.raises(errors.Conflict):
        demo.revert_volume_to_snapshot(vol["id"], snap.id)
    cloud.advance(5)
    assert demo.get_volume(vol["id"]).status == "available"


def test_messages_of_a_failed_snapshot(demo, admin, service_gateway, cloud):
    vol = cloud.create_volume("alpha", size=1)
    cloud.faults(create_error_rate=1.0)
    snap = demo.create_snapshot(volume_id=vol["id"])
    cloud.advance(5)
    cloud.clear_faults()
    found = demo.list_messages(resource_uuid=snap.id)
    assert len(found) == 1 and isinstance(found[0], MessageData)
    assert found[0].resource_type == "VOLUME_SNAPSHOT"
    assert found[0].user_message.startswith("create snapshot:")
    assert {m.resource_uuid for m in service_gateway.list_messages()} >= {snap.id}


def test_quota_usage(demo, reader, cloud):
    cloud.set_quota("alpha", snapshots=40, gigabytes=9000)
    usage = demo.get_quota_usage(cloud.project_id("alpha"))
    assert isinstance(usage, QuotaUsage)
    limits = demo.get_limits()
    assert (usage.snapshots_limit, usage.gigabytes_limit) == (40, 9000)
    assert usage.snapshots_used == limits.used_snapshots
    assert usage.gigabytes_used == limits.used_gigabytes
    assert reader.get_quota_usage(cloud.project_id("alpha")).snapshots_limit == 40
    with pytest.raises(errors.Forbidden):
        demo.get_quota_usage(cloud.project_id("gamma"))


def test_unmanage_list_and_manage_back(demo, admin, cloud):
    vol, snap = fresh_snapshot(demo, cloud)
    with pytest.raises(errors.Forbidden):
        demo.unmanage_snapshot(snap.id)
    with pytest.raises(errors.Forbidden):
        demo.list_manageable_snapshots(HOST)
    admin.unmanage_snapshot(snap.id)
    cloud.advance(5)
    with pytest.raises(errors.NotFound):
        demo.get_snapshot(snap.id)
    entries = admin.list_manageable_snapshots(HOST)
    assert all(isinstance(e, ManageableSnapshotData) for e in entries)
    free = [e for e in entries if e.reference == {"source-name": f"_snapshot-{snap.id}"}]
    assert len(free) == 1 and free[0].safe_to_manage and free[0].cinder_id == ""
    managed = [e for e in entries if e.cinder_id]
    assert managed and all(e.reason_not_safe == "already managed" for e in managed)
    back = admin.manage_snapshot(
        volume_id=vol["id"], ref=free[0].reference, name="back", metadata={"k": "v"}
    )
    assert back.status == "creating"
    cloud.advance(5)
    again = admin.get_snapshot(back.id)
    assert (again.status, again.name, again.metadata) == ("available", "back", {"k": "v"})
    with pytest.raises(errors.NotFound):
        admin.list_manageable_snapshots("nowhere@none")
