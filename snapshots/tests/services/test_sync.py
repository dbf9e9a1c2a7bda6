"""The full sync against the simulator over HTTP: what changes outside the dashboard shows up,
once, with the right source; interruptions, outages, slowness and a second worker are harmless."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud import credentials, errors
from snapshots.models import CloudState, Project, Snapshot, StatusChange, Volume
from snapshots.services import locks, sync
from snapshots.tests.paging import cloud_truth, live_mirror

pytestmark = pytest.mark.django_db

DETAIL = "GET /volume/v3/{project_id}/snapshots/detail"


def mirror_state() -> dict[str, tuple]:
    return {
        row.id: (row.status, row.name, row.volume_name, row.project_name, row.deleted_at is None)
        for row in Snapshot.objects.all()
    }


def changes_of(snapshot_id: str) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.source)
        for c in StatusChange.objects.filter(snapshot_id=snapshot_id).order_by("observed_at", "id")
    ]


def test_first_sync_copies_every_snapshot_with_volume_and_project_names(service_gateway, cloud):
    result = sync.sync_snapshots()

    truth = cloud_truth(service_gateway)
    assert live_mirror() == truth
    assert (result.seen, result.new, result.changed, result.gone) == (len(truth), len(truth), 0, 0)
    volumes = {v.id: v.name for v in service_gateway.iter_volumes(all_projects=True)}
    for row in Snapshot.objects.all():
        assert row.volume_name == volumes.get(row.volume_id, "")
        assert row.project_name in {"alpha", "beta", "gamma"}
        assert row.project_id == cloud.project_id(row.project_name)
        # one first sighting each, from the sync
        assert changes_of(row.id) == [("", row.status, ChangeSource.SYNC)]
    assert set(Volume.objects.values_list("id", flat=True)) == set(volumes)
    assert dict(Project.objects.values_list("name", "id")) == {
        name: cloud.project_id(name) for name in ("alpha", "beta", "gamma")
    }
    state = CloudState.get()
    assert state.reachable and state.last_sync_ok_at is not None
    assert state.last_sync_summary == result.summary()


def test_created_renamed_and_deleted_outside_the_dashboard_show_up(service_gateway, cloud):
    sync.sync_snapshots()
    available = [s for s in Snapshot.objects.live() if s.status == "available"]
    renamed, deleted = available[0], available[1]
    version_before = renamed.version
    created = cloud.create_snapshot("beta", name="made-in-the-cli")
    service_gateway.update_snapshot(renamed.id, name="renamed-in-the-cli")
    service_gateway.delete_snapshot(deleted.id)
    cloud.advance(5)  # the delete completes (and the demo's own creates and deletes move on)
    before = live_mirror()

    result = sync.sync_snapshots()

    truth = cloud_truth(service_gateway)
    moved = {i for i, v in truth.items() if before.get(i, v) != v}
    assert (result.new, result.gone) == (1, len(set(before) - set(truth)))
    assert result.changed >= len(moved) >= 1
    assert result.summary().startswith(f"synced {len(truth)} snapshots")
    assert live_mirror() == truth
    new = Snapshot.objects.get(pk=created["id"])
    assert (new.name, new.project_name, new.status) == ("made-in-the-cli", "beta", "available")
    assert changes_of(new.id) == [("", "available", ChangeSource.SYNC)]
    renamed.refresh_from_db()
    assert renamed.name == "renamed-in-the-cli" and renamed.version > version_before
    assert changes_of(renamed.id) == [("", "available", ChangeSource.SYNC)]  # not a status change
    deleted.refresh_from_db()
    assert deleted.deleted_at is not None and deleted.next_check_at is None
    assert changes_of(deleted.id) == [
        ("", "available", ChangeSource.SYNC),
        ("available", "deleted", ChangeSource.SYNC),
    ]


def test_each_status_change_is_recorded_once(service_gateway, cloud):
    sync.sync_snapshots()
    row = Snapshot.objects.live().filter(status="available").first()
    service_gateway.reset_snapshot_status(row.id, "error")
    sync.sync_snapshots()
    sync.sync_snapshots()
    assert changes_of(row.id) == [
        ("", "available", ChangeSource.SYNC),
        ("available", "error", ChangeSource.SYNC),
    ]
    before = StatusChange.objects.count()
    result = sync.sync_snapshots()
    assert (result.new, result.gone) == (0, 0)
    assert StatusChange.objects.count() == before


def test_a_snapshot_seen_again_after_being_marked_gone_comes_back(service_gateway, cloud):
    sync.sync_snapshots()
    row = Snapshot.objects.live().first()
    Snapshot.objects.filter(pk=row.pk).update(deleted_at=timezone.now() - timedelta(minutes=5))
    sync.sync_snapshots()
    row.refresh_from_db()
    assert row.deleted_at is None
    assert changes_of(row.id)[-1] == ("deleted", row.status, ChangeSource.SYNC)


def test_vanished_volumes_are_marked_and_names_stay(service_gateway, cloud):
    volume = cloud.create_volume("alpha", name="scratch")
    snap = cloud.create_snapshot("alpha", volume_id=volume["id"])
    sync.sync_snapshots()
    assert Snapshot.objects.get(pk=snap["id"]).volume_name == "scratch"
    admin = credentials.service_gateway()
    admin.delete_snapshot(snap["id"])
    cloud.advance(5)
    token = cloud.token("admin", "alpha")
    cloud.http.delete(
        f"{cloud.volume_endpoint('alpha')}/volumes/{volume['id']}",
        headers={"X-Auth-Token": token},
        timeout=10,
    ).raise_for_status()
    cloud.advance(5)
    sync.sync_snapshots()
    assert Volume.objects.get(pk=volume["id"]).deleted_at is not None
    gone = Snapshot.objects.get(pk=snap["id"])
    assert gone.deleted_at is not None and gone.volume_name == "scratch"


def test_without_the_right_to_list_projects_names_fall_back_to_ids(cloud, settings, tmp_path):
    # A member service account: Keystone refuses the project list, Cinder shows its project.
    clouds = tmp_path / "member.yaml"
    clouds.write_text(
        Path(settings.OS_CLIENT_CONFIG_FILE)
        .read_text()
        .replace("username: admin", "username: demo")
        .replace("test-service", "member-service")
    )
    settings.OS_CLIENT_CONFIG_FILE = str(clouds)
    settings.OS_CLOUD = "member-service"
    credentials.reset_service_gateway()

    sync.sync_snapshots()

    alpha = cloud.project_id("alpha")
    assert Snapshot.objects.exists()
    assert set(Snapshot.objects.values_list("project_id", "project_name")) == {(alpha, alpha)}
    assert list(Project.objects.values_list("id", "name")) == [(alpha, "")]


def test_sync_works_page_by_page_with_a_bounded_number_of_queries(service_gateway, settings):
    settings.SYNC_PAGE_SIZE = 7
    pages = []
    with CaptureQueriesContext(connection) as small:
        result = sync.sync_snapshots(on_page=lambda page, seen: pages.append((page, seen)))
    total = len(cloud_truth(service_gateway))
    assert result.pages == len(pages) == -(-total // 7) + (total % 7 == 0)
    assert pages[-1][1] == total
    # A few statements per page, not one per snapshot: a second, unchanged pass is cheaper still.
    assert len(small.captured_queries) < 12 * result.pages + 30
    with CaptureQueriesContext(connection) as again:
        sync.sync_snapshots()
    assert len(again.captured_queries) < 6 * result.pages + 30


def test_a_sync_cut_off_half_way_and_run_again_gives_the_same_mirror(
    service_gateway, cloud, settings
):
    settings.SYNC_PAGE_SIZE = 5
    sync.sync_snapshots()
    # The cloud changes: one new, one deleted, one failed.
    cloud.create_snapshot("gamma", name="late")
    rows = list(Snapshot.objects.live().filter(status="available").order_by("id"))
    service_gateway.delete_snapshot(rows[0].id)
    service_gateway.reset_snapshot_status(rows[1].id, "error")
    cloud.advance(5)

    def outage_after_two_pages(page: int, seen: int) -> None:
        if page == 2:
            cloud.faults(cinder_down=True)

    with pytest.raises(errors.Unavailable):
        sync.sync_snapshots(on_page=outage_after_two_pages)
    assert not CloudState.get().reachable
    # Half a sync marks nothing gone: the deleted one is still live in the mirror.
    assert Snapshot.objects.get(pk=rows[0].id).deleted_at is None

    cloud.clear_faults()
    sync.sync_snapshots()
    interrupted = mirror_state()
    history = sorted(changes_of(i) for i in interrupted)

    # The same changes seen by one uninterrupted sync from the same starting point.
    assert {k: v[:2] for k, v in interrupted.items() if v[4]} == cloud_truth(service_gateway)
    assert Snapshot.objects.get(pk=rows[0].id).deleted_at is not None
    assert changes_of(rows[1].id) == [
        ("", "available", ChangeSource.SYNC),
        ("available", "error", ChangeSource.SYNC),
    ]
    assert all(len(h) == len({(c[0], c[1]) for c in h}) for h in history), "no duplicates"
    sync.sync_snapshots()
    assert mirror_state() == interrupted
    assert CloudState.get().reachable


def test_an_outage_leaves_the_mirror_as_it_was_and_raises_the_banner(cloud):
    sync.sync_snapshots()
    ok_at = CloudState.get().last_sync_ok_at
    before = {r.id: (r.status, r.version, r.deleted_at) for r in Snapshot.objects.all()}
    changes = StatusChange.objects.count()
    cloud.faults(cinder_down=True)

    with pytest.raises(errors.Unavailable):
        sync.sync_snapshots()

    assert {r.id: (r.status, r.version, r.deleted_at) for r in Snapshot.objects.all()} == before
    assert StatusChange.objects.count() == changes
    state = CloudState.get()
    assert state.reachable is False
    assert "unreachable" in state.last_error.lower() and state.last_error_at is not None
    assert state.last_sync_ok_at == ok_at

    cloud.clear_faults()
    sync.sync_snapshots()
    state = CloudState.get()
    assert state.reachable is True and state.last_sync_ok_at > ok_at


def test_a_slow_cloud_is_waited_for(service_gateway, cloud, settings):
    settings.SYNC_PAGE_SIZE = 10
    cloud.faults(latency_ms=150)
    result = sync.sync_snapshots()
    assert result.seen == Snapshot.objects.live().count() > 10
    assert result.seconds >= 0.15 * result.pages
    assert CloudState.get().reachable
    cloud.clear_faults()
    assert live_mirror() == cloud_truth(service_gateway)


def test_a_hung_cloud_times_out_and_raises_the_banner(cloud, settings):
    sync.sync_snapshots()
    before = Snapshot.objects.live().count()
    settings.CLOUD_TIMEOUT = 0.3
    credentials.reset_service_gateway()
    cloud.faults(latency_ms=1500)

    with pytest.raises(errors.Unavailable):
        sync.sync_snapshots()

    assert CloudState.get().reachable is False
    assert Snapshot.objects.live().count() == before


def test_sync_flags_snapshots_stuck_since_before_it_first_saw_them(cloud):
    old = timezone.now() - timedelta(hours=2)
    stuck = cloud.create_snapshot("alpha", status="creating", created_at=old.isoformat())
    fresh = cloud.create_snapshot("alpha", status="creating")
    sync.sync_snapshots()
    assert Snapshot.objects.get(pk=stuck["id"]).stuck_since is not None
    assert Snapshot.objects.get(pk=fresh["id"]).stuck_since is None
    # Half an hour later the fresh one is stuck too, and a status change clears the flag.
    Snapshot.objects.filter(pk=fresh["id"]).update(status_since=timezone.now() - timedelta(hours=1))
    sync.sync_snapshots()
    row = Snapshot.objects.get(pk=fresh["id"])
    assert row.stuck_since is not None and row.is_stuck
    credentials.service_gateway().reset_snapshot_status(fresh["id"], "available")
    sync.sync_snapshots()
    assert Snapshot.objects.get(pk=fresh["id"]).stuck_since is None


def test_two_syncs_never_run_at_once(cloud):
    other = locks.acquire(sync.SYNC_LOCK, ttl=60)
    with pytest.raises(locks.LockHeld):
        sync.sync_snapshots()
    with pytest.raises(CommandError, match="another sync is running"):
        call_command("sync_snapshots")
    assert not Snapshot.objects.exists()
    other.release()
    assert sync.sync_snapshots().new > 0


def test_a_lease_left_by_a_dead_worker_expires(cloud):
    dead = locks.acquire(sync.SYNC_LOCK, ttl=60)
    from snapshots.models import WorkerLock

    WorkerLock.objects.filter(name=sync.SYNC_LOCK).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert sync.sync_snapshots().new > 0
    with pytest.raises(locks.LockLost):
        dead.renew()


def test_the_command_prints_one_summary_line(cloud, capsys):
    call_command("sync_snapshots")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert re.fullmatch(r"synced \d+ snapshots \(\d+ new, 0 changed, 0 gone\) in \d+\.\d s", out[0])


def test_the_command_reports_an_outage(cloud):
    cloud.faults(cinder_down=True)
    with pytest.raises(CommandError, match="unreachable"):
        call_command("sync_snapshots")


def test_paging_goes_on_when_the_marker_vanishes_between_two_pages(service_gateway, cloud):
    pages = []

    def fetch(marker, limit):
        items = service_gateway.list_snapshots(all_projects=True, limit=limit, marker=marker).items
        if not pages:  # the last snapshot of the first page leaves before the second request
            service_gateway.force_delete_snapshot(items[-1].id)
            cloud.advance(5)
        pages.append([s.id for s in items])
        return items

    seen = [i for _, items in sync._pages(fetch, 6) for i in [s.id for s in items]]
    assert len(seen) == len(set(seen))
    assert set(seen) - set(pages[0]) == set(cloud_truth(service_gateway)) - set(pages[0])
