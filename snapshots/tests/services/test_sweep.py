"""The spread-out sweep against the simulator: a round read a few pages a tick, an unchanged
cloud costing no write, absence proven by key ranges, and a dead worker's round taken over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots import tasks
from snapshots.models import CloudState, DetectState, Snapshot, StatusChange, WorkerLock
from snapshots.services import locks, sweep, sync
from snapshots.tests.paging import cloud_truth, live_mirror

pytestmark = pytest.mark.django_db

LIST = "GET /volume/v3/{project_id}/snapshots/detail"
VOLUMES = "GET /volume/v3/{project_id}/volumes/detail"


@pytest.fixture
def spread(settings):
    """Pages of 5 and a period that makes one page a tick."""
    settings.SYNC_PAGE_SIZE = 5
    settings.SWEEP_TICK = 20.0
    settings.SWEEP_INTERVAL = 40.0  # one tick per half round: still at least one page a tick
    return settings


def run_round(cloud) -> list[int]:
    """Ticks until the round ends; the cloud calls of each."""
    calls = []
    for _ in range(100):
        cloud.reset_stats()
        result = sweep.sweep_tick()
        calls.append(cloud.stats()["total"])
        if result.finished:
            return calls
    raise AssertionError("the round never finished")


def test_the_first_round_is_whole_and_later_ones_are_spread_over_ticks(
    cloud, service_gateway, spread
):
    assert sweep.sweep_tick().finished  # an empty mirror is filled at once
    spread.SWEEP_INTERVAL = 1e9  # so many ticks per round that each reads a single page
    DetectState.objects.filter(id=1).update(sweep_started_at=None)  # a round is due
    calls = run_round(cloud)
    # one page a tick (the first also signs in and lists the projects' names)
    assert len(calls) > 5 and max(calls[1:]) == 1
    assert live_mirror() == cloud_truth(service_gateway)
    assert CloudState.get().last_sync_ok_at is not None
    cloud.reset_stats()
    assert sweep.sweep_tick().idle and cloud.stats()["total"] == 0  # next round not due yet


def test_an_unchanged_cloud_costs_no_write(cloud, service_gateway):
    sync.sync_snapshots()
    before = list(Snapshot.objects.values_list("id", "version", "last_seen"))
    changes = StatusChange.objects.count()
    result = sync.sync_snapshots()
    assert (result.new, result.changed, result.gone) == (0, 0, 0)
    assert list(Snapshot.objects.values_list("id", "version", "last_seen")) == before
    assert StatusChange.objects.count() == changes


def test_a_deletion_is_proven_by_the_page_ranges(cloud, service_gateway, spread):
    sync.sync_snapshots()
    spread.SWEEP_INTERVAL = 1e9
    victim = Snapshot.objects.live().filter(status="available").order_by("created_at").first()
    service_gateway.force_delete_snapshot(victim.id)
    cloud.advance(5)
    DetectState.objects.filter(id=1).update(sweep_started_at=None)  # a round is due
    run_round(cloud)
    assert Snapshot.objects.get(pk=victim.id).deleted_at is not None
    assert live_mirror() == cloud_truth(service_gateway)


def test_a_dead_workers_round_is_taken_over_where_it_stopped(cloud, service_gateway, spread):
    sync.sync_snapshots()
    DetectState.objects.filter(id=1).update(sweep_started_at=None)
    spread.SWEEP_INTERVAL = 1e9
    while DetectState.get().sweep_phase != "snapshots" or not DetectState.get().sweep_marker:
        sweep.sweep_tick()
    state = DetectState.get()
    assert state.sweep_phase == "snapshots" and state.sweep_marker
    # A worker takes the lease and is killed: nobody renews it.
    locks.acquire(sweep.SWEEP_LOCK, ttl=60)
    with pytest.raises(locks.LockHeld):
        sweep.sweep_tick()
    WorkerLock.objects.filter(name=sweep.SWEEP_LOCK).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    calls = run_round(cloud)
    # It went on from the stored marker: fewer pages than a whole round.
    assert sum(calls) < -(-len(cloud_truth(service_gateway)) // 5) + 2
    assert live_mirror() == cloud_truth(service_gateway)


def test_two_beats_sending_the_same_sweep_tick_run_it_once(cloud, spread):
    spread.SWEEP_TICK = 3600.0  # both calls surely fall in one period
    first = tasks.sweep.apply().get()
    second = tasks.sweep.apply().get()
    assert first.startswith("synced") and second == "sweep skipped: this period's tick already ran"
