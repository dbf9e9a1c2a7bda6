"""The calls behind the snapshot workflows, identical on the simulator and on cinder 29: volumes
from snapshots, revert, user messages, quota usage, manageable snapshots, unmanage.

What the real cloud's test driver cannot do is asserted as the real Cinder answers it; what does
not depend on a driver (the API's own checks: microversions, policy, sizes, latest snapshot,
statuses) is asserted on both clouds alike.
"""

from __future__ import annotations

import contextlib

import pytest
import requests

from snapshots.cloud import errors
from tests.behaviour.conftest import PASSWORD
from tests.behaviour.helpers import create_outside, older_and_latest


class Raw:
    """Plain HTTP to Cinder with a user's token (for status codes and bodies the gateway hides)."""

    def __init__(self, backend, user: str, project: str) -> None:
        ks = backend.keystone()
        scoped = ks.scope(ks.password(user, PASSWORD, "Default").token, backend.project_id(project))
        self.token = scoped.token
        self.base = scoped.cinder_endpoint.rstrip("/")

    def __call__(self, method: str, path: str, mv: str | None = "3.71", **kw):
        headers = {"X-Auth-Token": self.token}
        if mv:
            headers["OpenStack-API-Version"] = f"volume {mv}"
        return requests.request(method, self.base + path, headers=headers, timeout=60, **kw)


@pytest.fixture
def volumes(backend):
    """`volumes(project, volume_id)` registers a volume to delete (with its snapshots) after."""
    ours: list[tuple[str, str]] = []
    yield lambda project, vid: ours.append((project, vid)) or vid
    for project, vid in ours:
        raw = Raw(backend, "admin", project)
        with contextlib.suppress(requests.RequestException):
            backend.wait_until(
                lambda raw=raw, vid=vid: (
                    raw("GET", f"/volumes/{vid}").json().get("volume", {}).get("status")
                    not in ("creating", "reverting")
                ),
                what="volume settled before clean-up",
            )
            raw("DELETE", f"/volumes/{vid}", params={"cascade": "true", "force": "true"})


def _volume_status(backend, project: str, vid: str, status: str):
    gw = backend.outside(project)
    return backend.wait_until(
        lambda: (v := gw.get_volume(vid)).status == status and v, what=f"volume {vid} {status}"
    )


def _member_volume_from_new_snapshot(backend, made, volumes, name: str):
    """demo's raw Cinder client, a fresh snapshot and a volume demo made from it, available."""
    snap = create_outside(backend, made, "alpha", name)
    member = Raw(backend, "demo", "alpha")
    body = member("POST", "/volumes", json={"volume": {"snapshot_id": snap.id}}).json()["volume"]
    vid = volumes("alpha", body["id"])
    _volume_status(backend, "alpha", vid, "available")
    return member, snap, vid


def test_volume_from_a_snapshot_becomes_available(backend, made, volumes, tag):
    snap = create_outside(backend, made, "alpha", f"{tag}-src")
    member = backend.gateway("demo", "alpha")
    made_volume, _ = member.create_volume(snapshot_id=snap.id, size=snap.size, name=f"{tag}-copy")
    volumes("alpha", made_volume.id)
    assert made_volume.status == "creating"
    assert made_volume.source_snapshot_id == snap.id
    seen = _volume_status(backend, "alpha", made_volume.id, "available")
    assert (seen.size, seen.name, seen.source_snapshot_id) == (snap.size, f"{tag}-copy", snap.id)
    with pytest.raises(errors.BadRequest) as small:
        member.create_volume(snapshot_id=snap.id, size=snap.size - 1 or 0)
    assert "size" in small.value.message.lower()
    with pytest.raises(errors.Forbidden):
        backend.gateway("auditor", "alpha").create_volume(snapshot_id=snap.id, size=snap.size)


def test_revert_is_offered_only_for_the_latest_snapshot_and_goes_through(
    backend, made, volumes, tag
):
    seed = create_outside(backend, made, "alpha", f"{tag}-seed", volume=2)
    admin = backend.outside("alpha")
    vol, _ = admin.create_volume(snapshot_id=seed.id, size=seed.size, name=f"{tag}-rv")
    volumes("alpha", vol.id)
    _volume_status(backend, "alpha", vol.id, "available")
    older, latest = older_and_latest(backend, made, "alpha", vol.id, tag)
    member = backend.gateway("demo", "alpha")
    with pytest.raises(errors.BadRequest) as not_latest:
        member.revert_volume_to_snapshot(vol.id, older.id)
    assert "is None or not the latest one of volume" in not_latest.value.message
    with pytest.raises(errors.Forbidden):
        backend.gateway("auditor", "alpha").revert_volume_to_snapshot(vol.id, latest.id)
    member.revert_volume_to_snapshot(vol.id, latest.id)
    # reverting/restoring while it runs (the fake driver may finish before we look), then back
    _volume_status(backend, "alpha", vol.id, "available")
    backend.wait_status("alpha", latest.id, "available")


def test_revert_needs_3_40(backend, made, tag):
    snap = create_outside(backend, made, "alpha", f"{tag}-mv")
    raw = Raw(backend, "demo", "alpha")
    body = {"revert": {"snapshot_id": snap.id}}
    early = raw("POST", f"/volumes/{snap.volume_id}/action", mv="3.39", json=body)
    assert early.status_code == 404


def test_user_messages_need_3_3_and_have_cinders_shape(backend):
    raw = Raw(backend, "demo", "alpha")
    assert raw("GET", "/messages", mv="3.0").status_code == 404
    listed = raw("GET", "/messages", mv="3.3")
    assert listed.status_code == 200
    for msg in listed.json()["messages"]:
        assert {"id", "event_id", "user_message", "resource_type", "created_at"} <= set(msg)
    assert backend.gateway("demo", "alpha").list_messages(resource_uuid="nothing") == []


def test_quota_usage_agrees_with_the_limits(backend):
    member = backend.gateway("demo", "alpha")
    usage = member.get_quota_usage(backend.project_id("alpha"))
    limits = member.get_limits()
    assert usage.snapshots_used == limits.used_snapshots
    assert usage.gigabytes_used == limits.used_gigabytes
    assert usage.snapshots_limit == limits.max_snapshots
    raw = Raw(backend, "demo", "alpha")
    body = raw("GET", f"/os-quota-sets/{backend.project_id('alpha')}", params={"usage": "True"})
    assert body.status_code == 200
    assert {"limit", "in_use", "reserved"} <= set(body.json()["quota_set"]["snapshots"])
    with pytest.raises(errors.Forbidden):
        member.get_quota_usage(backend.project_id("gamma"))


def test_manageable_listing_checks_before_any_driver(backend):
    admin = Raw(backend, "admin", "alpha")
    assert admin("GET", "/manageable_snapshots", mv="3.7", params={"host": "x@y"}).status_code == (
        404
    )
    neither = admin("GET", "/manageable_snapshots", mv="3.8")
    assert neither.status_code == 400
    assert (
        neither.json()["badRequest"]["message"] == "Invalid input received: Host field is missing."
    )
    member = Raw(backend, "demo", "alpha")
    assert member("GET", "/manageable_snapshots", mv="3.8", params={"host": "x@y"}).status_code == (
        403
    )


def test_unmanage_is_for_admins_and_takes_the_snapshot_out_of_cinder(backend, made, tag):
    snap = create_outside(backend, made, "alpha", f"{tag}-um")
    with pytest.raises(errors.Forbidden):
        backend.gateway("demo", "alpha").unmanage_snapshot(snap.id)
    backend.outside("alpha").unmanage_snapshot(snap.id)
    backend.wait_gone("alpha", snap.id)


def test_manage_refuses_a_missing_volume(backend):
    admin = backend.outside("alpha")
    with pytest.raises(errors.NotFound):
        admin.manage_snapshot(
            volume_id="00000000-0000-0000-0000-000000000000", ref={"source-name": "nothing"}
        )
    with pytest.raises(errors.Forbidden):
        backend.gateway("demo", "alpha").manage_snapshot(
            volume_id=backend.volume_ids("alpha")[0], ref={"source-name": "nothing"}
        )


def _backend_host(backend, project: str, volume_id: str) -> str:
    """`host@backend` of a volume (the admin-only `os-vol-host-attr:host`, pool cut off)."""
    shown = Raw(backend, "admin", project)("GET", f"/volumes/{volume_id}")
    return shown.json()["volume"]["os-vol-host-attr:host"].partition("#")[0]


def test_manageable_listing_checks_sort_then_service_with_cinders_texts(backend):
    admin = Raw(backend, "admin", "alpha")

    def refused(mv: str, **params) -> tuple[int, str]:
        answer = admin("GET", "/manageable_snapshots", mv=mv, params=params)
        return answer.status_code, next(iter(answer.json().values()))["message"]

    # the sort is checked before the service is looked up (the host here does not exist)
    assert refused("3.8", host="nohost@x", sort="bogus,size:sideways") == (
        400,
        "Invalid sort keys passed: bogus",
    )
    assert refused("3.8", host="nohost@x", sort="size:sideways") == (
        400,
        "Invalid sort dirs passed: sideways",
    )
    assert refused("3.8", host="nohost@x#pool") == (
        404,
        "Service cinder-volume could not be found on host nohost@x.",
    )
    assert refused("3.17", cluster="nocluster") == (
        404,
        "Service cinder-volume could not be found.",
    )


def test_manageable_listing_of_the_volumes_backend(backend, made, tag):
    snap = create_outside(backend, made, "alpha", f"{tag}-ml")
    host = _backend_host(backend, "alpha", snap.volume_id)
    listed = Raw(backend, "admin", "alpha")(
        "GET", "/manageable_snapshots/detail", mv="3.8", params={"host": host}
    )
    assert listed.status_code == 200
    entries = listed.json()["manageable-snapshots"]
    if backend.name == "real":
        # cinder 29's FakeLoggingVolumeDriver lists through a fake LVM without
        # `lv_is_snapshot`; the volume manager takes that AttributeError for "driver cannot
        # list" and answers an empty listing, even with Cinder's own snapshots on the backend
        assert entries == []
    else:
        (ours,) = [e for e in entries if e["cinder_id"] == snap.id]
        assert ours["reference"] == {"source-name": f"_snapshot-{snap.id}"}
        assert (ours["safe_to_manage"], ours["reason_not_safe"]) == (False, "already managed")


def test_managing_a_reference_the_backend_does_not_hold_ends_in_error_without_a_message(
    backend, made, tag
):
    admin = backend.outside("alpha")
    snap = admin.manage_snapshot(
        volume_id=backend.volume_ids("alpha")[0],
        ref={"source-name": f"{tag}-nothing"},
        name=f"{tag}-managed",
    )
    made("alpha", snap.id)
    assert snap.status == "creating"
    backend.wait_status("alpha", snap.id, "error")
    # cinder's manage flow writes no user message when the driver refuses the reference
    assert admin.list_messages(resource_uuid=snap.id) == []


def test_unmanaged_snapshot_managed_back(backend, made, tag):
    """Unmanage, then manage the backend's snapshot back by its LVM name. The simulator's
    backend keeps it, so it comes back `available`; the real cloud's fake driver cannot look
    the logical volume up (its fake LVM answers no size), so cinder 29 puts it in `error`."""
    snap = create_outside(backend, made, "alpha", f"{tag}-back")
    admin = backend.outside("alpha")
    admin.unmanage_snapshot(snap.id)
    backend.wait_gone("alpha", snap.id)
    back = admin.manage_snapshot(
        volume_id=snap.volume_id, ref={"source-name": f"_snapshot-{snap.id}"}, name=f"{tag}-m"
    )
    made("alpha", back.id)
    assert (back.status, back.name, back.volume_id) == ("creating", f"{tag}-m", snap.volume_id)
    expected = "error" if backend.name == "real" else "available"
    seen = backend.wait_status("alpha", back.id, expected)
    assert seen.size == snap.size


def test_volume_from_snapshot_refusals_and_bodies_read_like_cinder_29(backend, made, volumes, tag):
    snap = create_outside(backend, made, "alpha", f"{tag}-vb")
    member = Raw(backend, "demo", "alpha")

    def refusal(**volume) -> tuple[int, str]:
        answer = member("POST", "/volumes", json={"volume": {"snapshot_id": snap.id, **volume}})
        return answer.status_code, answer.json()["badRequest"]["message"]

    assert refusal(size=0) == (
        400,
        "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1",
    )
    assert refusal(availability_zone="nowhere") == (400, "Availability zone 'nowhere' is invalid.")
    created = member("POST", "/volumes", json={"volume": {"snapshot_id": snap.id}})
    assert created.status_code == 202
    body = created.json()["volume"]
    volumes("alpha", body["id"])
    # the os-vol-* extensions extend show and detail, not create; no service before scheduling
    assert [k for k in body if k.startswith("os-vol-")] == []
    assert body["service_uuid"] is None
    assert "migration_status" not in body
    _volume_status(backend, "alpha", body["id"], "available")
    shown = {
        who: set(Raw(backend, who, "alpha")("GET", f"/volumes/{body['id']}").json()["volume"])
        for who in ("demo", "auditor", "admin")
    }
    assert shown["demo"] == shown["auditor"]
    assert "os-vol-tenant-attr:tenant_id" in shown["demo"]
    assert shown["admin"] - shown["demo"] == {
        "migration_status",
        "os-vol-host-attr:host",
        "os-vol-mig-status-attr:migstat",
        "os-vol-mig-status-attr:name_id",
        "provider_id",
        "cluster_name",
    }


def test_attachments_reserve_and_complete_as_cinder_29_shows_them(backend, made, volumes, tag):
    member, _snap, vid = _member_volume_from_new_snapshot(backend, made, volumes, f"{tag}-at")
    server = "5f2c5b0e-6a3b-4c55-9d7e-0c2f3a1b4d6e"
    reserved = member(
        "POST",
        "/attachments",
        mv="3.27",
        json={"attachment": {"volume_uuid": vid, "instance_uuid": server}},
    )
    assert reserved.status_code == 200
    att = reserved.json()["attachment"]
    # no connector: no attach time ("" in cinder's attachment view) and mode the string 'null'
    assert (att["status"], att["instance"], att["volume_id"]) == ("reserved", server, vid)
    assert (att["attached_at"], att["detached_at"], att["attach_mode"]) == ("", "", "null")
    assert att["connection_info"] == {}
    assert member("GET", f"/volumes/{vid}").json()["volume"]["status"] == "reserved"
    done = member("POST", f"/attachments/{att['id']}/action", mv="3.44", json={"os-complete": {}})
    assert done.status_code == 204
    shown = member("GET", f"/attachments/{att['id']}", mv="3.27").json()["attachment"]
    assert (shown["status"], shown["attached_at"], shown["attach_mode"]) == ("attached", "", "null")
    assert member("GET", f"/volumes/{vid}").json()["volume"]["status"] == "in-use"
    refused = member("POST", "/snapshots", mv="3.65", json={"snapshot": {"volume_id": vid}})
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == (
        f"Invalid volume: Volume {vid} status must be available, but current status is: in-use."
    )
    gone = member("DELETE", f"/attachments/{att['id']}", mv="3.27")
    assert (gone.status_code, gone.json()) == (200, {"attachments": []})
    missing = member("GET", f"/attachments/{att['id']}", mv="3.27")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == (
        f"Volume attachment could not be found with filter: attachment_id = {att['id']}."
    )
    backend.wait_until(
        lambda: member("GET", f"/volumes/{vid}").json()["volume"]["status"] == "available",
        what="volume available after detach",
    )


def test_revert_refusals_read_like_cinder_29(backend, made, volumes, tag):
    member, snap, vid = _member_volume_from_new_snapshot(backend, made, volumes, f"{tag}-rr")

    def revert(snapshot_id) -> tuple[int, str]:
        answer = member(
            "POST",
            f"/volumes/{vid}/action",
            mv="3.40",
            json={"revert": {"snapshot_id": snapshot_id}},
        )
        return answer.status_code, answer.json()["badRequest"]["message"]

    assert revert(snap.id) == (400, f"Volume {vid} doesn't have any snapshots.")
    assert revert(5) == (
        400,
        "Invalid input for field/attribute snapshot_id. Value: 5. 5 is not of type 'string', "
        "'null'",
    )


def test_schema_refusals_read_like_cinder_29(backend, made, tag):
    """cinder's validator: "Invalid input for field/attribute <field>. Value: <str(value)>.
    <jsonschema's message>", or the bare message when the error has no path."""
    snap = create_outside(backend, made, "alpha", f"{tag}-sc")
    vid = snap.volume_id
    admin = Raw(backend, "admin", "alpha")
    member = Raw(backend, "demo", "alpha")

    def said(raw, method: str, path: str, body, mv: str = "3.71") -> str:
        answer = raw(method, path, mv=mv, json=body)
        assert answer.status_code == 400, answer.text
        return answer.json()["badRequest"]["message"]

    field = "Invalid input for field/attribute"
    assert said(member, "POST", "/snapshots", {"snap": {}}) == "'snapshot' is a required property"
    assert said(member, "POST", "/snapshots", {"snapshot": {"name": "x"}}) == (
        f"{field} snapshot. Value: {{'name': 'x'}}. 'volume_id' is a required property"
    )
    assert said(member, "POST", "/snapshots", {"snapshot": {"volume_id": vid, "bogus": 1}}) == (
        f"{field} snapshot. Value: {{'volume_id': '{vid}', 'bogus': 1}}. Additional properties "
        "are not allowed ('bogus' was unexpected)"
    )
    assert said(member, "POST", "/snapshots", {"snapshot": {"volume_id": "nope"}}) == (
        f"{field} volume_id. Value: nope. 'nope' is not valid under any of the given schemas"
    )
    attach = {"attachment": {"volume_uuid": vid, "instance_uuid": "nope"}}
    assert said(member, "POST", "/attachments", attach, mv="3.27") == (
        f"{field} instance_uuid. Value: nope. 'nope' is not a 'uuid'"
    )
    attach = {"attachment": {"volume_uuid": vid, "instance_uuid": None}}
    assert said(member, "POST", "/attachments", attach, mv="3.27") == (
        f"{field} instance_uuid. Value: None. None is not of type 'string'"
    )
    assert said(admin, "POST", f"/volumes/{vid}/action", {"os-reset_status": {}}) == (
        "Must specify 'status', 'attach_status' or 'migration_status' for update."
    )
    assert said(admin, "POST", f"/snapshots/{snap.id}/action", {"os-reset_status": {}}) == (
        f"{field} os-reset_status. Value: {{}}. 'status' is a required property"
    )
    assert said(member, "POST", f"/volumes/{vid}/action", {"revert": "x"}, mv="3.40") == (
        f"{field} revert. Value: x. 'x' is not of type 'object'"
    )
    assert said(
        member, "POST", "/volumes", {"volume": {"snapshot_id": snap.id, "size": "abc"}}
    ) == (f"{field} size. Value: abc. 'abc' does not match '^[0-9]+$'")
    manage = {"snapshot": {"volume_id": "nope", "ref": {"source-name": "x"}}}
    assert said(admin, "POST", "/manageable_snapshots", manage, mv="3.8") == (
        f"{field} volume_id. Value: nope. 'nope' is not a 'uuid'"
    )
    manage = {"snapshot": {"volume_id": vid}}
    assert said(admin, "POST", "/manageable_snapshots", manage, mv="3.8") == (
        f"{field} snapshot. Value: {{'volume_id': '{vid}'}}. 'ref' is a required property"
    )
    backend.outside("alpha").reset_snapshot_status(snap.id, "error")
    assert said(member, "POST", "/volumes", {"volume": {"snapshot_id": snap.id}}) == (
        "Invalid snapshot: Originating snapshot status must be one of 'available' values"
    )
