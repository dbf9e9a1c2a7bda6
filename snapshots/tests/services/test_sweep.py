"""The spread-out sweep against the simulator: a round read a few pages a tick, an unchanged
cloud costing no write, absence proven by key ranges (parts shared by workers:
test_sweep_parts.py)."""

from __future__ import annotations

import pytest

from snapshots import tasks
from snapshots.models import CloudState, DetectState, Snapshot, StatusChange, Volume
from snapshots.services import sweep, sync
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
    volumes = list(Volume.objects.order_by("id").values_list("id", "last_seen", "deleted_at"))
    changes = StatusChange.objects.count()
    result = sync.sync_snapshots()
    assert (result.new, result.changed, result.gone, result.volumes_gone) == (0, 0, 0, 0)
    assert list(Snapshot.objects.values_list("id", "version", "last_seen")) == before
    assert list(Volume.objects.order_by("id").values_list("id", "last_seen", "deleted_at")) == (
        volumes
    )
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


def test_two_beats_sending_the_same_sweep_tick_run_it_once(cloud, spread):
    spread.SWEEP_TICK = 3600.0  # both calls surely fall in one period
    first = tasks.sweep.apply().get()
    second = tasks.sweep.apply().get()
    assert first.startswith("synced") and second == "sweep skipped: this period's tick already ran"


def test_while_notifications_flow_a_round_is_due_only_every_sweep_events_interval(
    cloud, service_gateway, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from snapshots.models import ListenerState

    sync.sync_snapshots()
    settings.SWEEP_INTERVAL, settings.SWEEP_EVENTS_INTERVAL = 3600.0, 21600.0
    two_hours_ago = timezone.now() - timedelta(hours=2)
    DetectState.objects.filter(id=1).update(sweep_started_at=two_hours_ago)
    settings.CINDER_NOTIFICATIONS_URL = "amqp://bus"
    now = timezone.now()
    ListenerState.objects.create(id=1, connected=True, heartbeat_at=now, last_event_at=now)
    assert sweep.round_interval() == 21600.0
    cloud.reset_stats()
    assert sweep.sweep_tick().idle and cloud.stats()["total"] == 0  # events flow: not due
    ListenerState.objects.update(heartbeat_at=now - timedelta(minutes=5))  # the listener stopped
    assert sweep.round_interval() == 3600.0
    assert not sweep.sweep_tick().idle  # polling alone: an hour is past, the round begins
    assert cloud.stats()["total"] > 0
