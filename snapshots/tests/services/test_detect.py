"""Change detection against the simulator over HTTP: what a tick costs in cloud calls (in
proportion to change, never to projects or inventory), what it finds (status changes, renames,
outside creates and deletes), what it records, and how two beats, two workers and a dead
worker share it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from snapshots import tasks
from snapshots.choices import ChangeSource
from snapshots.cloud import errors
from snapshots.models import CloudState, DetectState, Snapshot, StatusChange, WorkerLock
from snapshots.services import detect, locks, mirror
from snapshots.tests.paging import (
    synced_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.django_db

LIST = "GET /volume/v3/{project_id}/snapshots/detail"
SHOW = "GET /volume/v3/{project_id}/snapshots/{snapshot_id}"


def snapshot_calls(cloud) -> dict[str, int]:
    return {k: v for k, v in cloud.stats()["by_route"].items() if "/snapshots" in k}


def changes_of(snapshot_id: str) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.source)
        for c in StatusChange.objects.filter(snapshot_id=snapshot_id).order_by("observed_at", "id")
    ]


def snapshot_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if '"snapshots_snapshot"' in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_an_idle_tick_is_one_call_and_writes_no_snapshot(synced):
    before = list(Snapshot.objects.values_list("id", "version", "last_seen", "next_check_at"))
    with CaptureQueriesContext(connection) as queries:
        result = detect.detect()
    assert snapshot_calls(synced) == {LIST: 1}
    assert result.calls == 1 and (result.changed, result.gone) == (0, 0)
    assert list(Snapshot.objects.values_list("id", "version", "last_seen", "next_check_at")) == (
        before
    )
    # only the stuck flag's two conditional UPDATEs, which match no row here
    assert len(snapshot_writes(queries.captured_queries)) == 2


def test_transitional_snapshots_cost_one_listing_per_status_not_per_project(synced):
    made = [
        synced.create_snapshot(project, status="creating", name=f"{project}-{n}", complete_in=60)
        for project in ("alpha", "beta", "gamma")
        for n in range(4)
    ]
    detect.detect()  # the new ones arrive (by the count)
    assert Snapshot.objects.transitional().filter(pk__in=[m["id"] for m in made]).count() == 12
    synced.reset_stats()

    result = detect.detect()

    # one recent listing (with the count) + one listing for `creating`, whatever the projects
    assert snapshot_calls(synced) == {LIST: 2}
    assert result.calls == 2


def test_creating_to_available_is_recorded_once_with_its_source(synced):
    made = synced.create_snapshot("alpha", status="creating", name="slow", complete_in=5)
    detect.detect()
    assert Snapshot.objects.get(pk=made["id"]).status == "creating"
    synced.advance(6)

    result = detect.detect()
    detect.detect()

    row = Snapshot.objects.get(pk=made["id"])
    assert row.status == "available" and result.changed >= 1
    assert changes_of(row.id) == [
        ("", "creating", ChangeSource.TRACK),
        ("creating", "available", ChangeSource.TRACK),
    ]


def test_a_long_transitional_snapshot_is_followed_every_tick_without_back_off(synced):
    made = synced.create_snapshot("beta", status="creating", name="long", complete_in=600)
    detect.detect()
    for _ in range(5):  # ten minutes of ticks: still listed every tick
        synced.advance(110)
        synced.reset_stats()
        detect.detect()
        assert snapshot_calls(synced).get(LIST) >= 2
    synced.advance(60)
    detect.detect()
    assert Snapshot.objects.get(pk=made["id"]).status == "available"


def test_a_rename_a_metadata_change_and_a_reset_outside_show_in_one_tick(synced, service_gateway):
    a, b, c = Snapshot.objects.live().filter(status="available").order_by("id")[:3]
    service_gateway.update_snapshot(a.id, name="renamed-outside")
    service_gateway.set_snapshot_metadata(b.id, {"team": "ops"})
    service_gateway.reset_snapshot_status(c.id, "error")
    synced.reset_stats()

    detect.detect()

    assert snapshot_calls(synced) == {LIST: 1}
    assert Snapshot.objects.get(pk=a.id).name == "renamed-outside"
    assert Snapshot.objects.get(pk=b.id).metadata == {"team": "ops"}
    assert Snapshot.objects.get(pk=c.id).status == "error"
    assert changes_of(c.id)[-1] == ("available", "error", ChangeSource.TRACK)


def test_a_snapshot_created_outside_shows_by_the_count(synced):
    made = synced.create_snapshot("gamma", name="from-the-cli")  # no updated_at yet
    synced.reset_stats()

    detect.detect()

    row = Snapshot.objects.get(pk=made["id"])
    assert (row.name, row.project_name) == ("from-the-cli", "gamma")
    assert snapshot_calls(synced) == {LIST: 2}  # recent + the newest-created page


def test_a_snapshot_deleted_between_two_ticks_is_found_by_the_count(synced, service_gateway):
    victim = Snapshot.objects.live().filter(status="available").order_by("created_at").first()
    service_gateway.force_delete_snapshot(victim.id)
    synced.advance(5)  # gone before any tick saw it `deleting`
    synced.reset_stats()

    result = detect.detect()

    assert Snapshot.objects.get(pk=victim.id).deleted_at is not None
    assert result.gone == 1
    assert changes_of(victim.id)[-1][1:] == ("deleted", ChangeSource.TRACK)
    assert Snapshot.objects.live().count() == len(
        service_gateway.list_snapshots(all_projects=True, limit=1000).items
    )
    synced.reset_stats()
    assert detect.detect().calls == 1  # the counts agree again: back to one call


def test_one_that_left_its_status_listing_costs_one_get(synced, service_gateway):
    made = synced.create_snapshot("alpha", status="creating", name="short", complete_in=600)
    detect.detect()
    service_gateway.reset_snapshot_status(made["id"], "available")
    # As if the recent listing had not shown it: the status listing misses it, a GET reads it.
    DetectState.objects.filter(id=1).update(watermark=timezone.now() + timedelta(days=1))
    synced.reset_stats()

    detect.detect()

    assert snapshot_calls(synced) == {LIST: 2, SHOW: 1}
    assert Snapshot.objects.get(pk=made["id"]).status == "available"


def test_error_and_error_deleting_are_final_and_never_listed(synced, service_gateway):
    row = Snapshot.objects.live().filter(status="available").first()
    service_gateway.reset_snapshot_status(row.id, "error_deleting")
    detect.detect()
    synced.reset_stats()
    assert detect.detect().calls == 1


def test_stuck_ones_are_listed_once_a_minute(synced):
    old = (timezone.now() - timedelta(hours=2)).isoformat()
    synced.create_snapshot("alpha", status="creating", name="stuck", created_at=old)
    detect.detect()
    assert Snapshot.objects.filter(name="stuck").get().is_stuck
    detect.detect()  # lists `creating` once more, then remembers all of them are stuck
    synced.reset_stats()
    detect.detect()
    assert snapshot_calls(synced) == {LIST: 1}
    state = DetectState.get()
    state.stuck_listed["creating"] = (timezone.now() - timedelta(seconds=61)).isoformat()
    DetectState.objects.filter(id=1).update(stuck_listed=state.stuck_listed)
    detect.detect()
    assert snapshot_calls(synced) == {LIST: 3}


def test_two_beats_sending_the_same_tick_run_it_once(synced, settings):
    settings.DETECT_INTERVAL = 3600.0  # both calls surely fall in one period
    first = tasks.detect.apply().get()
    second = tasks.detect.apply().get()
    assert [first.startswith("detected"), second] == [
        True,
        "detect skipped: this period's tick already ran",
    ]
    assert snapshot_calls(synced) == {LIST: 1}
    assert locks.claim_period("x", 7) and not locks.claim_period("x", 7)
    assert not locks.claim_period("x", 6) and locks.claim_period("x", 8)


def test_a_tick_is_placed_by_when_the_beat_sent_it_not_when_a_worker_ran_it():
    from types import SimpleNamespace

    sent = timezone.now().replace(microsecond=0)
    late, next_one = sent, sent + timedelta(seconds=2.5)
    # the first waited in the queue and runs together with its successor: both run
    assert detect.claim_tick("y", 2.5, sent_at=late)
    assert detect.claim_tick("y", 2.5, sent_at=next_one)
    assert not detect.claim_tick("y", 2.5, sent_at=next_one)  # a second beat's copy
    request = SimpleNamespace(expires=(next_one + timedelta(seconds=2.5)).isoformat())
    assert tasks._sent_at(request, 2.5) == next_one
    assert tasks._sent_at(SimpleNamespace(expires=None), 2.5) is None


def test_a_part_another_worker_holds_is_left_to_it_and_a_dead_ones_is_taken_over(synced):
    made = synced.create_snapshot("alpha", status="creating", name="busy", complete_in=600)
    detect.detect()
    other = locks.acquire("detect:recent", ttl=60)
    synced.reset_stats()

    result = detect.detect()

    assert result.busy == ["detect:recent"] and "detect:status:creating" in result.parts
    assert snapshot_calls(synced) == {LIST: 1}
    # The holder dies (kill -9): its lease runs out, the next tick does the part again.
    WorkerLock.objects.filter(name="detect:recent").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    result = detect.detect()
    assert result.busy == [] and "detect:recent" in result.parts
    with pytest.raises(locks.LockLost):
        other.renew()
    assert Snapshot.objects.filter(pk=made["id"]).exists()


def test_an_outage_raises_the_banner_and_the_next_good_tick_clears_it(synced):
    synced.faults(cinder_down=True)
    with pytest.raises(errors.Unavailable):
        detect.detect()
    assert CloudState.get().reachable is False
    synced.clear_faults()
    detect.detect()
    assert CloudState.get().reachable is True


def test_an_action_asks_for_one_snapshot_a_get_or_nothing_if_just_seen(synced, service_gateway):
    row = Snapshot.objects.live().filter(status="available").first()
    service_gateway.update_snapshot(row.id, name="acted")
    assert detect.check_snapshot(row.id).calls == 1
    assert Snapshot.objects.get(pk=row.id).name == "acted"
    made = service_gateway.create_snapshot(volume_id=row.volume_id, name="fresh", force=True)
    mirror.apply(made, source=ChangeSource.ACTION)
    synced.reset_stats()
    assert detect.check_snapshot(made.id).calls == 0  # the next tick's listing follows it
    assert snapshot_calls(synced) == {}


def test_many_created_between_two_ticks_are_all_found_in_one(synced):
    made = [synced.create_snapshot("alpha", name=f"bulk-{n}")["id"] for n in range(70)]
    detect.detect()
    assert Snapshot.objects.live().filter(pk__in=made).count() == 70


def test_a_count_a_whole_walk_cannot_explain_is_not_walked_again(synced):
    # A row only the mirror has and no listing range can prove gone (seen after the listing).
    ghost = Snapshot.objects.live().first()
    Snapshot.objects.create(
        id="ghost", project_id=ghost.project_id, status="available", volume_id=ghost.volume_id,
        created_at=ghost.created_at, last_seen=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    detect.detect()
    synced.reset_stats()
    assert detect.detect().calls == 1  # not another walk for the same count
