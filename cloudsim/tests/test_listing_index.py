"""The cost of a snapshot listing follows its page, not the cloud: the orders detection and the
sweep page through (`sort=updated_at`, the default created_at) are read from an index, first
page and marker pages alike, and give exactly the rows a full sort would."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from cloudsim.listing import Listing, PageRequest
from cloudsim.store import SNAPSHOT_COLUMNS, Store
from cloudsim.validation import NULLABLE_NUM, NULLABLE_TEXT

ROWS = 400


class Recorder(Listing):
    """The listing's paging over a store whose queries are recorded."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sql: list[tuple[str, tuple]] = []
        query = store.q

        def q(sql, params=()):
            self.sql.append((sql, tuple(params)))
            return query(sql, params)

        store.q = q

    def page(self, sort: str, limit: int, marker: str | None = None) -> list[str]:
        ctx = SimpleNamespace(is_admin=True, project_id="p")
        rows, _ = self._page(
            ctx,
            PageRequest(self._sort_params({"sort": sort}), limit, marker),
            table="snapshots",
            label="Snapshot",
            where=[],
            args=[],
            columns={c: c for c in SNAPSHOT_COLUMNS},
            nullable=NULLABLE_TEXT | NULLABLE_NUM,
        )
        return [r["id"] for r in rows]

    def plan(self) -> str:
        sql, params = self.sql[-1]
        steps = self.store.q("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(row["detail"] for row in steps)


@pytest.fixture
def listing() -> Recorder:
    store = Store()
    rng = random.Random(7)
    rows = []
    for i in range(ROWS):
        created = float(rng.randrange(50))  # many ties: the later keys decide
        updated = None if i % 9 == 0 else created + rng.randrange(3)
        rows.append((f"{rng.getrandbits(64):016x}-{i}", created, updated))
    store.db.executemany(
        "INSERT INTO snapshots (id, created_at, updated_at, project_id, volume_id, status, "
        "volume_size) VALUES (?, ?, ?, 'p', 'v', 'available', 1)",
        rows,
    )
    return Recorder(store)


def full_sort(listing: Recorder, key: str, direction: str) -> list[str]:
    rows = listing.store.db.execute("SELECT id, created_at, updated_at FROM snapshots").fetchall()

    def order(r):
        first = (r["updated_at"] or 0) if key == "updated_at" else r["created_at"]
        return (first, r["created_at"], r["id"])

    return [r["id"] for r in sorted(rows, key=order, reverse=direction == "desc")]


@pytest.mark.parametrize("key", ["updated_at", "created_at"])
@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_every_page_comes_from_the_index_without_sorting_rows(listing, key, direction):
    first = listing.page(f"{key}:{direction}", limit=50)
    plan = listing.plan()
    index = "snap_updated" if key == "updated_at" else "snap_created"
    assert f"USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
    listing.page(f"{key}:{direction}", limit=50, marker=first[-1])
    plan = listing.plan()
    # a marker page starts its index range at the marker (SEARCH), not at the top (SCAN)
    assert f"SEARCH snapshots USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("key", ["updated_at", "created_at"])
@pytest.mark.parametrize("direction", ["desc", "asc"])
@pytest.mark.parametrize("limit", [1, 7, 50])
def test_paging_with_markers_gives_the_full_sort(listing, key, direction, limit):
    seen: list[str] = []
    marker = None
    while True:
        page = listing.page(f"{key}:{direction}", limit=limit, marker=marker)
        seen += page
        if len(page) < limit:
            break
        marker = page[-1]
    assert seen == full_sort(listing, key, direction)
    assert len(seen) == ROWS


def test_mixed_directions_still_page_correctly(listing):
    """Two keys in opposite directions take the OR form of the marker condition."""
    seen: list[str] = []
    marker = None
    while True:
        page = listing.page("updated_at:desc,created_at:asc", limit=13, marker=marker)
        seen += page
        if len(page) < 13:
            break
        marker = page[-1]
    rows = listing.store.db.execute("SELECT id, created_at, updated_at FROM snapshots").fetchall()
    by_id = {r["id"]: r for r in rows}
    expected = sorted(
        by_id,
        key=lambda i: (-(by_id[i]["updated_at"] or 0), by_id[i]["created_at"], i),
    )
    # the remaining tie-breaker (id) follows the first key's direction: desc
    keyed = {}
    for i in expected:
        keyed.setdefault((by_id[i]["updated_at"] or 0, by_id[i]["created_at"]), []).append(i)
    expected = [
        i
        for k in sorted(keyed, key=lambda k: (-k[0], k[1]))
        for i in sorted(keyed[k], reverse=True)
    ]
    assert seen == expected
