"""The outage banner's timing: it appears with the first failed cloud call of a tick and clears
with the first good one, including while nothing is being tracked (the tasks run in-process,
eagerly, against the simulator with its outage fault)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots import tasks
from snapshots.cloud import errors
from snapshots.models import CloudState, Snapshot
from snapshots.services import reachability
from snapshots.tests.factories import make_snapshot

pytestmark = pytest.mark.django_db


def requests_made(cloud) -> int:
    return sum(cloud.stats()["by_route"].values())


def test_a_detection_tick_costs_a_few_listings_while_the_cloud_answers(cloud):
    assert tasks.track.apply().successful()  # the first tick fills the empty mirror
    statuses = Snapshot.objects.transitional().values("status").distinct().count()
    cloud.reset_stats()
    assert tasks.track.apply().successful()
    # the newest-updated listing (with its total count), one per transitional status at most
    assert 1 <= requests_made(cloud) <= 1 + statuses
    assert CloudState.get().reachable is True


def test_one_failed_tick_shows_the_outage_and_one_good_tick_clears_it(cloud):
    project = cloud.project_id("alpha")
    make_snapshot(project, status="creating", next_check_at=timezone.now() - timedelta(seconds=1))
    cloud.faults(cinder_down=True)
    tasks.track.apply()  # one tick (its retries run at once, eagerly)
    state = CloudState.get()
    assert state.reachable is False and state.last_error_at is not None

    cloud.clear_faults()
    CloudState.objects.filter(id=1).update(reachable=False)
    Snapshot.objects.update(next_check_at=timezone.now() + timedelta(hours=1))  # nothing due
    cloud.reset_stats()
    assert tasks.track.apply().successful()
    assert CloudState.get().reachable is True, "cleared by the first tick after recovery"
    assert requests_made(cloud) >= 1


def test_any_answer_counts_as_reachable_and_an_outage_is_recorded_at_once(cloud):
    gateway = reachability.service_gateway()
    CloudState.get()
    CloudState.objects.filter(id=1).update(reachable=False)
    with pytest.raises(errors.NotFound):
        gateway.get_snapshot("00000000-0000-0000-0000-000000000000")
    assert CloudState.get().reachable is True  # Cinder answered, even if with a 404

    cloud.faults(cinder_down=True)
    with pytest.raises(errors.Unavailable):
        gateway.list_snapshots(all_projects=True, limit=1)
    assert CloudState.get().reachable is False


def test_the_sync_task_records_the_outage_too(cloud):
    cloud.faults(cinder_down=True)
    assert tasks.sync.apply().failed()
    assert CloudState.get().reachable is False
    cloud.clear_faults()
    assert tasks.sync.apply().successful()
    assert CloudState.get().reachable is True
