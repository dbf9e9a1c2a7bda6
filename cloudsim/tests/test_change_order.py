"""What change detection relies on: `sort=updated_at:desc` puts every kind of change on top
(as Cinder 29 does), a fresh create has no updated_at and sorts last, paging through that order
with markers repeats and skips nothing, and with_count counts the whole cloud for an admin."""

from __future__ import annotations


def newest(raw, limit=3, **params) -> list[dict]:
    query = {"sort": "updated_at:desc", "limit": limit, "all_tenants": 1, **params}
    return raw.get("/snapshots/detail", params=query).json()["snapshots"]


def test_a_rename_a_metadata_change_and_a_reset_each_move_updated_at_to_the_top(sim, raw_admin):
    some = newest(raw_admin, limit=50)
    a, b, c = some[-1]["id"], some[-2]["id"], some[-3]["id"]
    raw_admin.put(f"/snapshots/{a}", json={"snapshot": {"name": "renamed"}})
    assert newest(raw_admin)[0]["id"] == a
    raw_admin.post(f"/snapshots/{b}/metadata", json={"metadata": {"k": "v"}})
    assert newest(raw_admin)[0]["id"] == b
    raw_admin.post(f"/snapshots/{c}/action", json={"os-reset_status": {"status": "error"}})
    assert [s["id"] for s in newest(raw_admin)] == [c, b, a]
    assert newest(raw_admin)[0]["updated_at"] > newest(raw_admin)[1]["updated_at"]


def test_a_fresh_create_has_no_updated_at_and_its_completion_moves_it_up(sim, raw_admin):
    made = sim.create_snapshot("beta", status="creating", complete_in=5)
    everything = newest(raw_admin, limit=1000)
    assert everything[-1]["id"] == made["id"] or everything[-1]["updated_at"] is None
    assert next(s for s in everything if s["id"] == made["id"])["updated_at"] is None
    sim.advance(6)
    top = newest(raw_admin)[0]
    assert (top["id"], top["status"]) == (made["id"], "available")


def test_paging_by_updated_at_with_markers_repeats_and_skips_nothing(sim, raw_admin):
    whole = [s["id"] for s in newest(raw_admin, limit=1000)]
    seen, marker = [], None
    while True:
        params = {"marker": marker} if marker else {}
        page = newest(raw_admin, limit=7, **params)
        seen += [s["id"] for s in page]
        if len(page) < 7:
            break
        marker = page[-1]["id"]
    assert seen == whole


def test_with_count_counts_every_project_for_an_admin(sim, raw_admin):
    body = raw_admin.get(
        "/snapshots/detail",
        params={"sort": "updated_at:desc", "limit": 1, "all_tenants": 1, "with_count": "true"},
    ).json()
    assert body["count"] == sim.info()["snapshot_count"] and len(body["snapshots"]) == 1
