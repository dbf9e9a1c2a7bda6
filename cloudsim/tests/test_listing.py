"""Snapshot lists: paging, links, counts, sorting, filters, all_tenants."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from cloudsim.store import SNAPSHOT_COLUMNS


def ids(resp) -> list[str]:
    return [s["id"] for s in resp.json()["snapshots"]]


@pytest.fixture
def many(sim):
    """25 more available snapshots in alpha (so alpha has a known, larger set)."""
    vol = sim.create_volume("alpha", name="bulk", size=3)
    for i in range(25):
        sim.create_snapshot(
            "alpha",
            volume_id=vol["id"],
            name=f"bulk-{i:02d}",
            created_at=f"2024-01-{i + 1:02d}T10:00:00",
            metadata={"batch": "b", "n": str(i % 3)},
        )
    return vol


def walk_raw(raw, limit, **params):
    """Follow snapshots_links to the end; returns (ids, requests made)."""
    seen, calls = [], 0
    url, query = "/snapshots/detail", {"limit": limit, **params}
    while True:
        r = raw.get(url, params=query)
        calls += 1
        assert r.status_code == 200
        page = r.json()
        seen += [s["id"] for s in page["snapshots"]]
        if not page["snapshots"] or "snapshots_links" not in page:
            return seen, calls
        (link,) = page["snapshots_links"]
        assert link["rel"] == "next"
        url, query = link["href"], None


@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_paging_to_the_end_raw(raw, many, limit):
    everything = ids(raw.get("/snapshots/detail"))
    total = len(everything)
    assert total > 25
    seen, calls = walk_raw(raw, limit)
    assert seen == everything
    expected = total // limit + 1 if total % limit == 0 or limit == 1 else -(-total // limit)
    assert calls == expected


@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_paging_to_the_end_sdk(conn, raw, many, limit):
    everything = ids(raw.get("/snapshots/detail"))
    got = [s.id for s in conn.block_storage.snapshots(limit=limit)]
    assert got == everything


def test_next_link_shape(sim, raw, many):
    r = raw.get("/snapshots", params={"limit": 2, "status": "available"})
    (link,) = r.json()["snapshots_links"]
    parts = urlsplit(link["href"])
    assert f"{parts.scheme}://{parts.netloc}" == sim.url
    assert parts.path == f"/volume/v3/{sim.project_id('alpha')}/snapshots"
    q = parse_qs(parts.query)
    assert q["limit"] == ["2"]
    assert q["status"] == ["available"]
    assert q["marker"] == [r.json()["snapshots"][-1]["id"]]


def test_partial_last_page_has_no_link_unless_with_count(raw, many):
    total = len(ids(raw.get("/snapshots")))
    r = raw.get("/snapshots", params={"limit": total + 5})
    assert "snapshots_links" not in r.json()
    r = raw.get("/snapshots", params={"limit": total + 5, "with_count": "true"})
    assert r.json()["count"] == total
    assert "snapshots_links" not in r.json()
    last_full = raw.get("/snapshots", params={"limit": total})
    assert "snapshots_links" in last_full.json()
    seen, _ = walk_raw(raw, 10, with_count="true")
    assert len(seen) == total
    page = raw.get("/snapshots", params={"limit": 10, "with_count": "true"}).json()
    assert page["count"] == total


def test_with_count_is_a_total_of_the_filter(raw, many):
    r = raw.get("/snapshots/detail", params={"limit": 3, "with_count": "1", "name": "bulk-03"})
    assert r.json()["count"] == 1


def test_with_count_below_3_45(raw, raw_admin, many):
    r = raw_admin.get("/snapshots", params={"with_count": "true"}, mv="3.44")
    assert (r.status_code, r.json()) == (200, {"snapshots": []})
    r = raw.get("/snapshots", params={"with_count": "true"}, mv="3.44")
    assert r.status_code == 400


def test_limit_and_offset_params(raw, many):
    everything = ids(raw.get("/snapshots"))
    r = raw.get("/snapshots", params={"limit": 0})
    assert (r.status_code, r.json()) == (200, {"snapshots": []})
    for bad in ("-1", "x", "1.5"):
        assert raw.get("/snapshots", params={"limit": bad}).status_code == 400
    assert ids(raw.get("/snapshots", params={"offset": 3, "limit": 4})) == everything[3:7]
    for bad in ("-1", "x"):
        assert raw.get("/snapshots", params={"offset": bad}).status_code == 400
    r = raw.get("/snapshots", params={"marker": everything[4], "limit": 2})
    assert ids(r) == everything[5:7]
    r = raw.get("/snapshots", params={"marker": "6f1c9a4e-0000-4000-8000-000000000000"})
    assert r.status_code == 404


def test_default_order_is_created_at_desc(raw, many):
    items = raw.get("/snapshots/detail").json()["snapshots"]
    keys = [(s["created_at"], s["id"]) for s in items]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize(
    ("sort", "field", "reverse"),
    [
        ("display_name:asc", "name", False),
        ("name:desc", "name", True),
        ("volume_size:asc", "size", False),
        ("status:asc", "status", False),
        ("created_at:asc", "created_at", False),
        ("id:desc", "id", True),
    ],
)
def test_sort_and_paging_together(raw, many, sort, field, reverse):
    seen, _ = walk_raw(raw, 4, sort=sort)
    items = raw.get("/snapshots/detail", params={"sort": sort}).json()["snapshots"]
    assert [s["id"] for s in items] == seen
    values = [s[field] or "" for s in items]
    assert values == sorted(values, reverse=reverse)


def test_sort_key_and_dir_form(raw, many):
    a = ids(raw.get("/snapshots", params={"sort_key": "display_name", "sort_dir": "asc"}))
    b = ids(raw.get("/snapshots", params={"sort": "display_name:asc"}))
    assert a == b


@pytest.mark.parametrize("key", list(SNAPSHOT_COLUMNS))
def test_every_column_is_a_sort_key(raw, key):
    assert raw.get("/snapshots", params={"sort": f"{key}:asc"}).status_code == 200


@pytest.mark.parametrize("key", ["metadata", "due_at", "due_status"])
def test_the_simulators_own_columns_are_not_sort_keys(raw, key):
    r = raw.get("/snapshots", params={"sort": f"{key}:asc"})
    assert r.status_code == 400
    assert "Invalid sort key" in r.text


@pytest.mark.parametrize(
    ("params", "mv"),
    [
        ({"sort": "size:asc"}, "3.65"),
        ({"sort": "description"}, "3.65"),
        ({"sort": "bogus"}, "3.65"),
        ({"sort": "name:asc"}, "3.29"),
        ({"sort": "created_at:up"}, "3.65"),
        ({"sort_key": "created_at", "sort_dir": "sideways"}, "3.65"),
        ({"sort": "created_at", "sort_key": "id"}, "3.65"),
        ({"sort": "created_at", "sort_dir": "asc"}, "3.65"),
    ],
)
def test_sort_errors(raw, params, mv):
    r = raw.get("/snapshots", params=params, mv=mv)
    assert r.status_code == 400
    assert r.json()["badRequest"]["code"] == 400


def test_name_sort_from_3_30(raw):
    assert raw.get("/snapshots", params={"sort": "name"}, mv="3.30").status_code == 200


def test_filters(sim, raw, many):
    assert len(ids(raw.get("/snapshots", params={"name": "bulk-07"}))) == 1
    statuses = {s["status"] for s in raw.get("/snapshots").json()["snapshots"]}
    assert len(statuses) > 2
    for status in statuses:
        items = raw.get("/snapshots", params={"status": status}).json()["snapshots"]
        assert items
        assert {s["status"] for s in items} == {status}
    assert raw.get("/snapshots", params={"status": "AVAILABLE"}).json()["snapshots"] == []
    assert len(ids(raw.get("/snapshots", params={"volume_id": many["id"]}))) == 25
    meta = json.dumps({"batch": "b", "n": "1"})
    assert len(ids(raw.get("/snapshots", params={"metadata": meta}))) == 8
    assert ids(raw.get("/snapshots", params={"metadata": "[1]"})) == []


def test_metadata_filter_below_3_22_is_dropped(raw, many):
    everything = ids(raw.get("/snapshots", mv="3.21"))
    meta = json.dumps({"batch": "b"})
    assert ids(raw.get("/snapshots", params={"metadata": meta}, mv="3.21")) == everything
    assert len(ids(raw.get("/snapshots", params={"metadata": meta}, mv="3.22"))) == 25


def test_availability_zone_and_consumes_quota_filters(sim, raw):
    az2 = sim.create_volume("alpha", name="far", availability_zone="az-9", size=1)
    sim.create_snapshot("alpha", volume_id=az2["id"], name="far-snap")
    sim.create_snapshot("alpha", name="internal", consumes_quota=False)
    r = raw.get("/snapshots", params={"availability_zone": "az-9"})
    assert [s["name"] for s in r.json()["snapshots"]] == ["far-snap"]
    r = raw.get("/snapshots", params={"consumes_quota": "false"})
    assert [s["name"] for s in r.json()["snapshots"]] == ["internal"]


def test_sdk_filters(conn, many):
    names = [s.name for s in conn.block_storage.snapshots(name="bulk-11")]
    assert names == ["bulk-11"]
    assert all(s.status == "error" for s in conn.block_storage.snapshots(status="error"))
    by_meta = list(conn.block_storage.snapshots(metadata={"n": "2"}))
    assert len(by_meta) == 8


def test_non_admin_filter_rules(raw):
    for key in ("project_id", "user_id", "name~", "bogus", "display_name"):
        r = raw.get("/snapshots", params={key: "x"}, mv="3.65")
        assert r.status_code == 400, key
        assert "Invalid filters" in r.json()["badRequest"]["message"]
    everything = ids(raw.get("/snapshots", mv="3.30"))
    assert ids(raw.get("/snapshots", params={"bogus": "x"}, mv="3.30")) == everything


def test_admin_filters(sim, raw_admin, many):
    r = raw_admin.get("/snapshots", params={"name~": "bulk-1"}, mv="3.34")
    assert sorted(s["name"] for s in r.json()["snapshots"]) == [f"bulk-{i}" for i in range(10, 20)]
    r = raw_admin.get("/snapshots", params={"user_id": sim.user_id("demo")})
    assert r.status_code == 200
    assert r.json()["snapshots"]
    assert raw_admin.get("/snapshots", params={"no_such_column": "1"}).json()["snapshots"] == []


def test_all_tenants(sim, raw, raw_admin, admin_conn):
    own = ids(raw_admin.get("/snapshots"))
    every = ids(raw_admin.get("/snapshots", params={"all_tenants": "1"}))
    assert set(own) < set(every)
    projects = {
        s["os-extended-snapshot-attributes:project_id"]
        for s in raw_admin.get("/snapshots/detail", params={"all_tenants": "true"}).json()[
            "snapshots"
        ]
    }
    assert projects == {sim.project_id(p) for p in ("alpha", "beta", "gamma")}
    beta = sim.project_id("beta")
    narrowed = raw_admin.get(
        "/snapshots/detail", params={"all_tenants": "1", "project_id": beta}
    ).json()["snapshots"]
    assert narrowed
    assert {s["os-extended-snapshot-attributes:project_id"] for s in narrowed} == {beta}
    assert ids(raw_admin.get("/snapshots", params={"project_id": beta})) == own
    assert ids(raw_admin.get("/snapshots", params={"all_tenants": "0"})) == own
    sdk_all = {s.id for s in admin_conn.block_storage.snapshots(all_projects=True)}
    assert sdk_all == set(every)
    member_own = ids(raw.get("/snapshots"))
    assert ids(raw.get("/snapshots", params={"all_tenants": "1"})) == member_own
    r = raw.get("/snapshots", params={"all_tenants": "1", "project_id": beta})
    assert r.status_code == 400
