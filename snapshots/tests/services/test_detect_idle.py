"""What detection asks Cinder when nothing changes: a probe of one row and the count once the
top of the recent listing has stayed put past the overlap, the page only when the top moved;
and a count, not a listing, for a status whose snapshots are all stuck. Against the simulator
over HTTP; each test reads the requests the simulator received."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from snapshots.models import DetectState, Snapshot
from snapshots.services import detect
from snapshots.tests.paging import (
    synced_fixture,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.django_db


def listings(cloud) -> list[dict[str, list[str]]]:
    """The query of every snapshot listing the simulator answered since its stats were reset."""
    return [
        parse_qs(urlsplit(r["path"]).query)
        for r in cloud.requests()
        if r["method"] == "GET" and urlsplit(r["path"]).path.endswith("/snapshots/detail")
    ]


def snapshot_requests(cloud) -> list[str]:
    return [r["path"] for r in cloud.requests() if "/snapshots" in r["path"]]


def quiet() -> None:
    """As if the top of the recent listing had stayed put for longer than the overlap."""
    DetectState.objects.filter(id=1).update(
        recent_top_seen_at=timezone.now() - detect.OVERLAP - timedelta(seconds=1)
    )


def test_a_quiet_tick_asks_for_one_row_and_the_count(synced):
    quiet()
    result = detect.detect()
    assert result.calls == 1 and (result.changed, result.gone) == (0, 0)
    (query,) = listings(synced)
    assert query["limit"] == ["1"] and query["sort"] == ["updated_at:desc"]
    assert query["with_count"] == ["true"] and query["all_tenants"] == ["True"]


def test_a_tick_soon_after_the_top_moved_reads_the_page(synced, service_gateway):
    row = Snapshot.objects.live().filter(status="available").first()
    service_gateway.update_snapshot(row.id, name="moved")
    detect.detect()  # the top moved: this tick and the next ones within the overlap read pages
    synced.reset_stats()
    detect.detect()
    (query,) = listings(synced)
    assert query["limit"] == [str(detect.RECENT_PAGE)]


def test_a_change_after_a_quiet_spell_is_read_in_the_same_tick(synced, service_gateway):
    quiet()
    row = Snapshot.objects.live().filter(status="available").order_by("created_at").first()
    service_gateway.update_snapshot(row.id, name="renamed-outside")
    synced.reset_stats()

    result = detect.detect()

    assert Snapshot.objects.get(pk=row.id).name == "renamed-outside"
    probe, page = listings(synced)
    assert probe["limit"] == ["1"] and probe["with_count"] == ["true"]
    assert page["limit"] == [str(detect.RECENT_PAGE)] and "with_count" not in page
    assert result.calls == 2 and result.changed == 1
    state = DetectState.get()
    assert state.recent_top == row.id
    assert timezone.now() - state.recent_top_seen_at < detect.OVERLAP


def test_a_row_committed_late_under_an_unchanged_top_is_read_within_the_overlap(
    synced, service_gateway
):
    a, b = Snapshot.objects.live().filter(status="available").order_by("id")[:2]
    service_gateway.update_snapshot(a.id, name="top")
    detect.detect()
    # b's change is stamped a second before a's (its transaction committed after the tick
    # listed): the top stays a, and b lies below it, within the overlap
    synced.advance(-1)
    service_gateway.update_snapshot(b.id, name="late")
    synced.advance(1)

    detect.detect()

    assert DetectState.get().recent_top == a.id
    assert Snapshot.objects.get(pk=b.id).name == "late"


def test_a_snapshot_created_outside_during_a_quiet_spell_shows_by_the_probes_count(synced):
    quiet()
    made = synced.create_snapshot("gamma", name="from-the-cli")  # no updated_at: not on top
    synced.reset_stats()

    detect.detect()

    assert Snapshot.objects.get(pk=made["id"]).name == "from-the-cli"
    probe = listings(synced)[0]
    assert probe["limit"] == ["1"] and probe["with_count"] == ["true"]


def stuck_creating(cloud) -> Snapshot:
    old = (timezone.now() - timedelta(hours=2)).isoformat()
    cloud.create_snapshot("alpha", status="creating", name="stuck", created_at=old)
    detect.detect()
    detect.detect()  # lists `creating` once more, then remembers all of them are stuck
    row = Snapshot.objects.get(name="stuck")
    assert row.is_stuck
    return row


def recheck_due() -> None:
    state = DetectState.get()
    state.stuck_listed["creating"] = (timezone.now() - timedelta(seconds=61)).isoformat()
    DetectState.objects.filter(id=1).update(stuck_listed=state.stuck_listed)


def test_an_all_stuck_status_is_rechecked_by_its_count_alone(synced):
    stuck_creating(synced)
    recheck_due()
    synced.reset_stats()

    detect.detect()

    by_status = [q for q in listings(synced) if "status" in q]
    assert by_status == [
        {"all_tenants": ["True"], "limit": ["0"], "status": ["creating"], "with_count": ["true"]}
    ]
    listed = datetime.fromisoformat(DetectState.get().stuck_listed["creating"])
    assert timezone.now() - listed < timedelta(seconds=5)  # not due again for a minute


def test_a_stuck_one_gone_without_a_trace_is_found_when_the_count_falls_short(synced):
    row = stuck_creating(synced)
    ghost = Snapshot.objects.create(
        id="ghost", project_id=row.project_id, status="creating", volume_id=row.volume_id,
        created_at=row.created_at, last_seen=row.last_seen, stuck_since=row.stuck_since,
    )  # fmt: skip
    recheck_due()
    synced.reset_stats()

    detect.detect()

    by_status = [q for q in listings(synced) if "status" in q]
    # the count, then the listing of its rows
    assert [q["limit"] == ["0"] for q in by_status] == [True, False]
    assert any(p.endswith("/snapshots/ghost") for p in snapshot_requests(synced))
    ghost.refresh_from_db()
    assert ghost.deleted_at is not None
