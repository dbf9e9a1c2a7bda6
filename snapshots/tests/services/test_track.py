"""The tracker against the simulator: what a tick costs in cloud calls, what it records, how it
backs off, how it proves a snapshot gone, and how it behaves in an outage or beside another tick.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud import errors
from snapshots.models import CloudState, Snapshot, StatusChange
from snapshots.services import locks, mirror, sync
from snapshots.tests.paging import snapshot_pages

pytestmark = pytest.mark.django_db

LIST = "GET /volume/v3/{project_id}/snapshots/detail"
SHOW = "GET /volume/v3/{project_id}/snapshots/{snapshot_id}"


def snapshot_calls(cloud) -> dict[str, int]:
    """Cinder snapshot requests since the last reset, by route."""
    return {k: v for k, v in cloud.stats()["by_route"].items() if "/snapshots" in k}


def due_now(*ids: str) -> None:
    """Make these snapshots (default: every transitional one) due for a check, and no other."""
    now = timezone.now()
    rows = Snapshot.objects.transitional()
    rows.update(next_check_at=now + timedelta(hours=1))
    (rows.filter(pk__in=ids) if ids else rows).update(next_check_at=now)


def changes_of(snapshot_id: str) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.source)
        for c in StatusChange.objects.filter(snapshot_id=snapshot_id).order_by("observed_at", "id")
    ]


@pytest.fixture
def synced(cloud):
    sync.sync_snapshots()
    cloud.reset_stats()
    return cloud


def test_a_tick_costs_one_list_call_per_project_whatever_the_number_of_snapshots(cloud):
    for project in ("alpha", "beta"):
        for n in range(8):
            cloud.create_snapshot(project, status="creating", name=f"{project}-{n}")
    sync.sync_snapshots()
    due_now()
    projects = set(Snapshot.objects.transitional().values_list("project_id", flat=True))
    assert Snapshot.objects.transitional().count() > 2 * 8 and len(projects) == 3
    cloud.reset_stats()

    result = sync.track_snapshots()

    assert snapshot_calls(cloud) == {LIST: len(projects)}
    assert (result.calls, result.projects) == (len(projects), len(projects))
    # Nothing is due right after a check: the next tick costs nothing at all.
    cloud.reset_stats()
    assert sync.track_snapshots().calls == 0
    assert snapshot_calls(cloud) == {}


def test_track_records_creating_to_available_once_with_its_source(synced):
    made = synced.create_snapshot("alpha", status="creating", complete_in=1)
    sync.sync_snapshots()
    row = Snapshot.objects.get(pk=made["id"])
    assert row.status == "creating" and row.next_check_at is not None
    synced.advance(2)
    due_now(row.id)

    result = sync.track_snapshots()

    assert result.changed == 1
    done = Snapshot.objects.get(pk=row.id)
    assert (done.status, done.progress) == ("available", 100)
    assert done.version > row.version
    assert (done.next_check_at, done.check_interval) == (None, 0)
    assert changes_of(row.id) == [
        ("", "creating", ChangeSource.SYNC),
        ("creating", "available", ChangeSource.TRACK),
    ]
    sync.track_snapshots()
    sync.sync_snapshots()
    assert len(changes_of(row.id)) == 2


def test_a_snapshot_missing_from_the_answer_is_gone(synced, service_gateway):
    victim = Snapshot.objects.live().filter(status="available").first()
    service_gateway.delete_snapshot(victim.id)
    mirror.apply(service_gateway.get_snapshot(victim.id), source=ChangeSource.ACTION)
    synced.advance(5)
    due_now(victim.id)
    synced.reset_stats()

    result = sync.track_snapshots()

    assert result.gone == 1
    assert Snapshot.objects.get(pk=victim.id).deleted_at is not None
    assert changes_of(victim.id) == [
        ("", "available", ChangeSource.SYNC),
        ("available", "deleting", ChangeSource.ACTION),
        ("deleting", "deleted", ChangeSource.TRACK),
    ]
    assert snapshot_calls(synced) == {LIST: 1}


def test_unchanged_snapshots_back_off_and_a_status_change_starts_again(synced, service_gateway):
    made = synced.create_snapshot("beta", status="creating")  # never finishes by itself
    sync.sync_snapshots()
    assert Snapshot.objects.get(pk=made["id"]).check_interval == mirror.FIRST_CHECK
    intervals = []
    for _ in range(10):
        due_now(made["id"])
        before = timezone.now()
        sync.track_snapshots()
        row = Snapshot.objects.get(pk=made["id"])
        intervals.append(row.check_interval)
        wait = (row.next_check_at - before).total_seconds()
        assert row.check_interval <= wait <= row.check_interval + 5
    assert intervals == [4, 8, 16, 32, 64, 128, 256, 300, 300, 300]

    service_gateway.reset_snapshot_status(made["id"], "deleting")
    due_now(made["id"])
    sync.track_snapshots()
    row = Snapshot.objects.get(pk=made["id"])
    assert (row.status, row.check_interval) == ("deleting", mirror.FIRST_CHECK)
    assert changes_of(row.id)[-1] == ("creating", "deleting", ChangeSource.TRACK)


def test_error_and_error_deleting_are_final_and_never_polled(synced):
    assert Snapshot.objects.live().filter(status__in=["error", "error_deleting"]).count() >= 2
    due_now("none")  # every transitional snapshot waits an hour
    Snapshot.objects.filter(status__in=["error", "error_deleting"]).update(
        next_check_at=timezone.now() - timedelta(minutes=1)
    )
    assert sync.track_snapshots().calls == 0
    assert snapshot_calls(synced) == {}


def test_absence_is_confirmed_not_assumed_when_a_project_has_more_than_a_page(
    cloud, service_gateway, settings
):
    settings.SYNC_PAGE_SIZE = 5
    made = [
        cloud.create_snapshot("gamma", status="creating", name=f"bulk-{n}")["id"] for n in range(12)
    ]
    sync.sync_snapshots()
    victim = made[3]  # older than the project's newest page of five
    service_gateway.force_delete_snapshot(victim)
    cloud.advance(5)
    due_now(*made)
    creating = len(
        [
            s
            for page in snapshot_pages(
                service_gateway,
                all_projects=True,
                project_id=cloud.project_id("gamma"),
                status="creating",
            )
            for s in page.items
        ]
    )
    cloud.reset_stats()

    result = sync.track_snapshots()

    # The newest page; then the `creating` listing to its end (a full last page asks once more);
    # then one GET for the only one missing from both, which proves it gone.
    assert snapshot_calls(cloud) == {LIST: 1 + creating // 5 + 1, SHOW: 1}
    assert result.gone == 1
    assert Snapshot.objects.get(pk=victim).deleted_at is not None
    assert changes_of(victim)[-1] == ("creating", "deleted", ChangeSource.TRACK)
    others = Snapshot.objects.filter(pk__in=made).exclude(pk=victim)
    assert set(others.values_list("status", flat=True)) == {"creating"}
    assert not others.filter(deleted_at__isnull=False).exists()


def test_a_gone_snapshot_in_the_newest_page_needs_no_get(cloud, service_gateway, settings):
    settings.SYNC_PAGE_SIZE = 5
    made = [cloud.create_snapshot("gamma", status="creating")["id"] for n in range(3)]
    sync.sync_snapshots()
    service_gateway.force_delete_snapshot(made[1])
    cloud.advance(5)
    due_now(*made)
    cloud.reset_stats()

    assert sync.track_snapshots().gone == 1
    assert snapshot_calls(cloud) == {LIST: 1}


def test_old_snapshots_deep_in_a_big_project_cost_a_filtered_list_then_one_get(
    cloud, service_gateway, settings
):
    settings.SYNC_PAGE_SIZE = 5
    old = cloud.create_snapshot(
        "gamma", name="old", created_at=(timezone.now() - timedelta(days=300)).isoformat()
    )["id"]
    for n in range(16):  # more than WINDOW_PAGES pages of newer snapshots
        cloud.create_snapshot("gamma", name=f"newer-{n}")
    sync.sync_snapshots()
    service_gateway.delete_snapshot(old)
    mirror.apply(service_gateway.get_snapshot(old), source=ChangeSource.ACTION)
    due_now(old)
    cloud.reset_stats()

    sync.track_snapshots()  # still deleting: found by the status-filtered list
    assert snapshot_calls(cloud) == {LIST: 1}
    assert Snapshot.objects.get(pk=old).check_interval == 2 * mirror.FIRST_CHECK

    cloud.advance(5)
    due_now(old)
    cloud.reset_stats()
    result = sync.track_snapshots()  # missing from the list: one GET proves it gone
    assert snapshot_calls(cloud) == {LIST: 1, SHOW: 1}
    assert result.gone == 1
    assert changes_of(old)[-1] == ("deleting", "deleted", ChangeSource.TRACK)


def test_an_explicit_snapshot_is_checked_now(synced, service_gateway):
    row = Snapshot.objects.transitional().first()
    due_now("none")
    Snapshot.objects.filter(pk=row.pk).update(last_seen=timezone.now() - timedelta(seconds=30))
    assert sync.track_snapshots(snapshot_id=row.id).calls == 1
    assert snapshot_calls(synced) == {LIST: 1}

    # Not in the mirror yet (made outside, between two syncs): one GET brings it in.
    made = synced.create_snapshot("beta", name="fresh")
    synced.reset_stats()
    result = sync.track_snapshots(snapshot_id=made["id"])
    assert snapshot_calls(synced) == {SHOW: 1} and result.changed == 1
    assert changes_of(made["id"]) == [("", "available", ChangeSource.TRACK)]

    # Settled in the mirror but gone from the cloud: read again, unless it was just seen.
    service_gateway.delete_snapshot(made["id"])
    synced.advance(5)
    assert sync.track_snapshots(snapshot_id=made["id"]).calls == 0
    Snapshot.objects.filter(pk=made["id"]).update(last_seen=timezone.now() - timedelta(seconds=5))
    assert sync.track_snapshots(snapshot_id=made["id"]).gone == 1
    assert Snapshot.objects.get(pk=made["id"]).deleted_at is not None


def test_an_outage_leaves_the_mirror_and_the_next_good_tick_clears_the_banner(synced):
    due_now()
    before = {r.id: (r.status, r.version) for r in Snapshot.objects.all()}
    synced.faults(cinder_down=True)

    with pytest.raises(errors.Unavailable):
        sync.track_snapshots()

    assert {r.id: (r.status, r.version) for r in Snapshot.objects.all()} == before
    state = CloudState.get()
    assert state.reachable is False and state.last_error
    synced.clear_faults()
    assert sync.track_snapshots().calls > 0
    assert CloudState.get().reachable is True


def test_actions_on_many_snapshots_cost_one_list_call_not_one_each(synced, service_gateway):
    # A bulk delete: each action stores Cinder's answer and asks for its snapshot to be tracked.
    victims = list(Snapshot.objects.live().filter(status="available")[:10])
    due_now("none")
    for victim in victims:
        service_gateway.delete_snapshot(victim.id)
        mirror.apply(service_gateway.get_snapshot(victim.id), source=ChangeSource.ACTION)
    synced.reset_stats()
    for victim in victims:  # just seen by the action: each stays due in FIRST_CHECK seconds
        assert sync.track_snapshots(snapshot_id=victim.id).calls == 0
    synced.advance(5)
    due_now(*[v.id for v in victims])
    result = sync.track_snapshots()
    projects = {v.project_id for v in victims}
    assert snapshot_calls(synced) == {LIST: len(projects)}
    assert result.gone == len(victims)


def test_ticks_never_overlap(synced):
    row = Snapshot.objects.transitional().first()
    due_now("none")
    Snapshot.objects.filter(pk=row.pk).update(last_seen=timezone.now() - timedelta(seconds=30))
    other = locks.acquire(sync.TRACK_LOCK, ttl=30)

    result = sync.track_snapshots(snapshot_id=row.id)

    assert result.skipped and result.calls == 0
    assert snapshot_calls(synced) == {}
    # The requested snapshot is left due, for the tick that holds the lease.
    assert Snapshot.objects.get(pk=row.id).next_check_at <= timezone.now()
    other.release()
    assert sync.track_snapshots().calls == 1


def test_track_flags_stuck_snapshots_without_calling_the_cloud(synced):
    due_now("none")
    row = Snapshot.objects.transitional().filter(status="creating", stuck_since=None).first()
    Snapshot.objects.filter(pk=row.pk).update(status_since=timezone.now() - timedelta(hours=1))

    result = sync.track_snapshots()

    assert result.stuck == 1 and result.calls == 0
    flagged = Snapshot.objects.get(pk=row.pk)
    assert flagged.stuck_since is not None and flagged.version > row.version


def test_a_stale_answer_does_not_undo_what_an_action_saw_later(synced, service_gateway):
    row = Snapshot.objects.live().filter(status="available").first()
    read_before = timezone.now()
    old_view = service_gateway.get_snapshot(row.id)
    service_gateway.delete_snapshot(row.id)
    mirror.apply(service_gateway.get_snapshot(row.id), source=ChangeSource.ACTION)

    _, changed = mirror.apply(old_view, source=ChangeSource.TRACK, now=read_before, if_newer=True)

    assert not changed
    assert Snapshot.objects.get(pk=row.id).status == "deleting"
    assert not mirror.mark_gone(row.id, source=ChangeSource.TRACK, now=read_before, if_newer=True)


def test_listing_a_project_refreshes_its_other_transitional_snapshots_for_free(synced):
    waiting = synced.create_snapshot("alpha", status="creating", complete_in=1)["id"]
    due = synced.create_snapshot("alpha", status="creating")["id"]
    sync.sync_snapshots()
    # `waiting` backed off far away; `due` is due: one list call sees both.
    due_now(due)
    synced.advance(2)
    synced.reset_stats()

    result = sync.track_snapshots()

    assert snapshot_calls(synced) == {LIST: 1} and result.changed >= 1
    assert Snapshot.objects.get(pk=waiting).status == "available"
    assert changes_of(waiting)[-1] == ("creating", "available", ChangeSource.TRACK)
