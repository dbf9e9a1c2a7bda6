"""Version documents, the OpenStack-API-Version header, URL forms and gated fields."""

from __future__ import annotations

import pytest
import requests


def test_version_documents_need_no_token(sim):
    r = requests.get(sim.url + "/volume", timeout=10)
    assert r.status_code == 300
    (v,) = r.json()["versions"]
    assert (v["id"], v["version"], v["min_version"], v["status"]) == (
        "v3.0",
        "3.71",
        "3.0",
        "CURRENT",
    )
    for path in ("/volume/v3", "/volume/v3/"):
        r = requests.get(sim.url + path, timeout=10)
        assert r.status_code == 200
        assert r.json()["versions"][0]["version"] == "3.71"


@pytest.mark.parametrize(
    ("header", "served"),
    [(None, "3.0"), ("3.0", "3.0"), ("3.65", "3.65"), ("latest", "3.71"), ("3.71", "3.71")],
)
def test_served_version_header(raw, header, served):
    r = raw.get("/snapshots", mv=header)
    assert r.status_code == 200
    assert r.headers["OpenStack-API-Version"] == f"volume {served}"
    assert r.headers["Vary"] == "OpenStack-API-Version"


def test_version_above_maximum_is_406_with_headers(raw):
    r = raw.get("/snapshots", mv="9.99")
    assert r.status_code == 406
    assert r.json()["computeFault"]["code"] == 406
    assert r.headers["OpenStack-API-Version"] == "volume 9.99"
    r = raw.get("/snapshots", mv="3.72")
    assert r.status_code == 406


def test_version_below_minimum_is_406_without_headers(raw):
    r = raw.get("/snapshots", mv="2.0")
    assert r.status_code == 406
    assert r.json()["computeFault"]["code"] == 406
    assert "OpenStack-API-Version" not in r.headers


@pytest.mark.parametrize(
    "header", ["compute 3.5", "VOLUME 3.5", "volume 3", "volume 3.x", "volume 3.05", "volume"]
)
def test_malformed_version_is_400_without_headers(raw, header):
    r = raw.get("/snapshots", mv=None, headers={"OpenStack-API-Version": header})
    assert r.status_code == 400
    assert r.json()["badRequest"]["code"] == 400
    assert "OpenStack-API-Version" not in r.headers


def test_project_less_urls_and_mismatched_project(sim, raw):
    r = raw.get(f"{sim.url}/volume/v3/snapshots/detail")
    assert r.status_code == 200
    with_project = raw.get("/snapshots/detail").json()["snapshots"]
    assert [s["id"] for s in r.json()["snapshots"]] == [s["id"] for s in with_project]
    r = raw.get(f"{sim.url}/volume/v3/{sim.project_id('beta')}/snapshots")
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == "Malformed request url"


def test_unknown_route_is_404(raw):
    r = raw.get("/nothing-here")
    assert r.status_code == 404


def one_snapshot_id(raw) -> str:
    return raw.get("/snapshots", params={"status": "available", "limit": 1}).json()["snapshots"][0][
        "id"
    ]


GATED = {"group_snapshot_id": "3.14", "user_id": "3.41", "consumes_quota": "3.65"}
EXT = ("os-extended-snapshot-attributes:project_id", "os-extended-snapshot-attributes:progress")
BASE = {"id", "created_at", "updated_at", "name", "description", "volume_id", "status", "size"}


@pytest.mark.parametrize("field", sorted(GATED))
def test_gated_fields_appear_from_their_microversion(raw, field):
    sid = one_snapshot_id(raw)
    added = GATED[field]
    major, minor = added.split(".")
    before = f"{major}.{int(minor) - 1}"
    assert field not in raw.get(f"/snapshots/{sid}", mv=before).json()["snapshot"]
    assert field in raw.get(f"/snapshots/{sid}", mv=added).json()["snapshot"]
    assert field in raw.get("/snapshots/detail", mv=added).json()["snapshots"][0]
    assert field not in raw.get("/snapshots", mv="3.71").json()["snapshots"][0]


def test_summary_list_has_base_fields_only(raw):
    item = raw.get("/snapshots", mv="3.71").json()["snapshots"][0]
    assert set(item) == BASE | {"metadata"}


def test_extended_attributes_only_on_show_and_detail(raw):
    sid = one_snapshot_id(raw)
    show = raw.get(f"/snapshots/{sid}").json()["snapshot"]
    detail = raw.get("/snapshots/detail").json()["snapshots"][0]
    for key in EXT:
        assert key in show
        assert key in detail
    assert show["os-extended-snapshot-attributes:progress"] == "100%"
    vol = next(
        v for v in raw.get("/volumes/detail").json()["volumes"] if v["status"] == "available"
    )
    created = raw.post("/snapshots", json={"snapshot": {"volume_id": vol["id"]}}).json()
    assert not any(k in created["snapshot"] for k in EXT)
    assert created["snapshot"]["updated_at"] is None
    assert created["snapshot"]["consumes_quota"] is True
    updated = raw.put(
        f"/snapshots/{created['snapshot']['id']}", json={"snapshot": {"name": "n"}}
    ).json()
    assert not any(k in updated["snapshot"] for k in EXT)
    assert "user_id" in updated["snapshot"]


def test_timestamps_are_naive_with_microseconds(raw):
    item = raw.get("/snapshots/detail").json()["snapshots"][0]
    ts = item["created_at"]
    assert len(ts) == 26
    assert ts[10] == "T"
    assert ts[19] == "."
    assert not ts.endswith("Z")
