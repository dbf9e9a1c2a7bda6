"""The sweep cut into parts (services/sweep.py): two workers share a round without reading a
page twice and together finish it, a dead worker's part is taken over from its cursor, and a
part whose boundary row left Cinder still proves absence right."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots.cloud.credentials import service_gateway as make_service_gateway
from snapshots.models import DetectState, Snapshot, SweepPart, WorkerLock
from snapshots.services import locks, sweep, sync
from snapshots.tests.paging import cloud_truth, live_mirror

pytestmark = pytest.mark.django_db


class Worker:
    """One worker's gateway: the service gateway, recording the marker of every snapshot page
    it asks for. `pause` runs (once) right after its first snapshot page arrived, while this
    worker still holds that part's lease: another worker's tick, say."""

    def __init__(self, pause=None) -> None:
        self.gateway = make_service_gateway()
        self.markers: list[str | None] = []
        self.pause = pause

    def __getattr__(self, name):
        return getattr(self.gateway, name)

    def list_snapshots(self, **query):
        self.markers.append(query.get("marker"))
        page = self.gateway.list_snapshots(**query)
        if self.pause is not None:
            pause, self.pause = self.pause, None
            pause()
        return page


def new_round() -> None:
    DetectState.objects.filter(id=1).update(sweep_started_at=None)


@pytest.fixture
def parts(settings, cloud):
    """A synced mirror of the demo cloud (40 snapshots); pages of 5, parts of 10 snapshots."""
    settings.SYNC_PAGE_SIZE = 5
    settings.SWEEP_PART_ROWS = 10
    settings.SWEEP_TICK = 20.0
    settings.SWEEP_INTERVAL = 40.0  # one tick per half round: a tick may read a whole round
    sync.sync_snapshots()
    assert Snapshot.objects.live().count() == 40
    return settings


def run_round(gateway=None) -> list:
    """Ticks until the round is closed; their results."""
    results = [sweep.sweep_tick(gateway=gateway)]
    while not results[-1].finished:
        assert len(results) < 50, "the round never finished"
        results.append(sweep.sweep_tick(gateway=gateway))
    return results


def test_a_round_is_cut_into_parts_by_the_mirrors_key_order(parts):
    new_round()
    run_round()
    rows = list(SweepPart.objects.order_by("index"))
    assert [p.kind for p in rows] == ["volumes"] + ["snapshots"] * 4
    keys = list(Snapshot.objects.live().order_by("-created_at", "-id").values_list("id", flat=True))
    # Each boundary is every 10th row; a part ends (inclusive) where the next begins (exclusive).
    assert [p.lower_id for p in rows[1:]] == [keys[9], keys[19], keys[29], ""]
    assert [p.upper_id for p in rows[1:]] == ["", keys[9], keys[19], keys[29]]
    assert all(p.done_at is not None for p in rows)


def test_two_workers_share_a_round_without_reading_a_page_twice(parts, cloud, service_gateway):
    new_round()
    second = Worker()
    results = []
    # The first worker's tick stops after its first snapshot page (it holds part 1's lease);
    # meanwhile the second worker's tick runs from start to end.
    first = Worker(pause=lambda: results.append(sweep.sweep_tick(gateway=second)))
    results.append(sweep.sweep_tick(gateway=first))
    assert not results[0].finished  # the second could not close the round: part 1 was held
    # Then the two take turns until the round is over.
    while not results[-1].finished:
        assert len(results) < 50, "the round never finished"
        worker = first if len(results) % 2 else second
        results.append(sweep.sweep_tick(gateway=worker))
    assert first.markers and second.markers
    assert not set(first.markers) & set(second.markers)  # no page read by both
    assert len(first.markers) == len(set(first.markers))
    assert len(second.markers) == len(set(second.markers))
    # The second worker left part 1 (the top: no marker) to the first.
    assert first.markers[0] is None and None not in second.markers
    # Together they finished the round, once, and the mirror is the cloud.
    assert sum(r.finished for r in results) == 1
    assert DetectState.get().sweep_phase == ""
    assert SweepPart.objects.filter(done_at=None).count() == 0
    assert live_mirror() == cloud_truth(service_gateway)
    # 40 snapshots in pages of 5, four parts each ending on a page that reaches the next part:
    # not more than 40/5 + 4 pages in all.
    assert len(first.markers) + len(second.markers) <= 40 // 5 + 4


def test_a_dead_workers_part_is_taken_over_from_its_cursor(parts, cloud, service_gateway):
    parts.SWEEP_INTERVAL = 1e9  # one page a tick
    new_round()
    for _ in range(20):  # until part 1 has read a page and stored its cursor
        sweep.sweep_tick()
        part = SweepPart.objects.get(index=1)
        if part.cursor_id:
            break
    assert part.cursor_id and part.done_at is None
    # A worker takes part 1 and is killed: nobody renews its lease.
    locks.acquire(sweep.PART_LOCK.format(1), ttl=60)
    others = Worker()
    for _ in range(20):
        sweep.sweep_tick(gateway=others)
    assert part.cursor_id not in others.markers
    assert SweepPart.objects.get(index=1).cursor_id == part.cursor_id  # untouched meanwhile
    assert SweepPart.objects.filter(done_at=None).count() == 1  # everything else is read
    assert DetectState.get().sweep_phase == sweep.RUNNING  # the round waits for part 1
    WorkerLock.objects.filter(name=sweep.PART_LOCK.format(1)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    heir = Worker()
    results = run_round(heir)
    assert heir.markers[0] == part.cursor_id  # on from where the dead worker stopped
    assert results[-1].finished
    assert live_mirror() == cloud_truth(service_gateway)


def test_a_part_whose_boundary_left_cinder_still_proves_absence(parts, cloud, service_gateway):
    keys = list(Snapshot.objects.live().order_by("-created_at", "-id").values_list("id", flat=True))
    boundary = keys[19]  # part 3 starts listing after it (parts of 10 rows)
    inside = keys[22]  # a row of part 3
    for victim in (boundary, inside):
        service_gateway.force_delete_snapshot(victim)
    cloud.advance(5)
    new_round()  # cut from the mirror, which still has both
    reader = Worker()
    run_round(reader)
    assert SweepPart.objects.get(index=3).upper_id == boundary
    # Cinder answered 404 for that marker; the part started after the mirror's row above it.
    tried = reader.markers.index(boundary)
    assert reader.markers[tried + 1] == keys[18]
    for victim in (boundary, inside):
        assert Snapshot.objects.get(pk=victim).deleted_at is not None
    assert live_mirror() == cloud_truth(service_gateway)


def test_a_whole_round_asks_for_each_page_once_and_none_past_a_parts_end(parts, service_gateway):
    """sync_snapshots requests the next page while it stores one: still no page twice, and no
    request beyond the end of a part (its last page reaches the next part's first row)."""
    reader = Worker()
    result = sync.sync_snapshots(gateway=reader)
    assert result.finished and result.seen == 40
    assert len(reader.markers) == len(set(reader.markers))
    # Parts of 10 rows in pages of 5: two pages each, and the listing's short (empty) end.
    assert len(reader.markers) == 4 * 2 + 1
    assert live_mirror() == cloud_truth(service_gateway)
