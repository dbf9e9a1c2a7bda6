"""The snapshot detail page: every field, the source volume, the timeline, scoped per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.models import StatusChange
from snapshots.services import mirror
from snapshots.tests.factories import make_snapshot, make_volume
from snapshots.tests.views.browse_helpers import (  # noqa: F401 (fixtures)
    WHO_SEES_WHAT,
    projects_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def snaps(projects):
    volume = make_volume(projects["alpha"], name="db-volume", volume_type="fast", size=80)
    alpha = make_snapshot(
        projects["alpha"],
        name="nightly",
        description="before the upgrade",
        volume_id=volume.pk,
        volume_name=volume.name,
        metadata={"team": "db", "<k>": "<v>"},
        group_snapshot_id="group-1",
        user_id="user-42",
    )
    return {
        "alpha": alpha,
        "beta": make_snapshot(projects["beta"], name="beta-one"),
        "gamma": make_snapshot(projects["gamma"], name="gamma-one"),
        "volume": volume,
    }


@pytest.mark.parametrize(("user", "project", "allowed"), WHO_SEES_WHAT)
def test_detail_per_role(login, snaps, user, project, allowed):
    client = login(user, project=project)
    for name in ("alpha", "beta", "gamma"):
        response = client.get(f"/snapshots/{snaps[name].pk}/")
        assert response.status_code == (200 if name in allowed else 404), (user, name)


def test_unknown_id_is_404(login, snaps):
    assert login("admin").get("/snapshots/no-such-snapshot/").status_code == 404


def test_detail_shows_every_field(login, snaps):
    snap = snaps["alpha"]
    html = login("demo").get(f"/snapshots/{snap.pk}/").content.decode()
    for text in (
        "nightly",
        "before the upgrade",
        snap.pk,
        f"{snap.size} GiB",
        "user-42",
        "group-1",
        "alpha",
        snap.project_id,
        "Consumes quota",
        "First seen",
        "Last seen in Cinder",
        snap.created_at.strftime("%Y-%m-%d %H:%M:%S"),
    ):
        assert text in html, text
    # metadata, escaped
    assert "&lt;k&gt;" in html and "&lt;v&gt;" in html and "<k>" not in html
    # the source volume from the mirror
    assert "db-volume" in html and "fast" in html and "80 GiB" in html
    assert f"?volume={snaps['volume'].pk}" in html
    # the owners' partials are included
    assert 'id="detail-actions"' in html and 'id="audit-heading"' in html
    assert f'data-copy="{snap.pk}"' in html


def test_unknown_volume_is_said_plainly(login, projects):
    snap = make_snapshot(projects["alpha"], volume_id="vol-gone", volume_name="old-vol")
    html = login("demo").get(f"/snapshots/{snap.pk}/").content.decode()
    assert "not in the dashboard's mirror" in html and "vol-gone" in html


def test_volume_of_another_project_is_not_shown(login, projects):
    theirs = make_volume(projects["gamma"], name="their-volume")
    snap = make_snapshot(projects["alpha"], volume_id=theirs.pk, volume_name="")
    html = login("demo").get(f"/snapshots/{snap.pk}/").content.decode()
    assert "their-volume" not in html


def test_timeline_with_durations(login, projects):
    start = timezone.now() - timedelta(minutes=10)
    snap = make_snapshot(projects["alpha"], status="creating", history=False, progress=0)
    for to, frm, seconds in (("creating", "", 0), ("available", "creating", 95)):
        StatusChange.objects.create(
            snapshot=snap,
            project_id=snap.project_id,
            from_status=frm,
            to_status=to,
            observed_at=start + timedelta(seconds=seconds),
            source=ChangeSource.TRACK,
        )
    html = login("demo").get(f"/snapshots/{snap.pk}/").content.decode()
    assert 'id="status-timeline"' in html
    assert "for 1 min 35 s" in html  # how long it was creating
    assert "so far" in html  # the current stay


def test_deleted_snapshot_is_viewable_and_marked(login, snaps):
    snap = snaps["alpha"]
    mirror.mark_gone(snap.pk, source=ChangeSource.SYNC)
    response = login("demo").get(f"/snapshots/{snap.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="deleted-note"' in html and 'id="deleted-badge"' in html
    assert 'id="detail-poller"' not in html


def test_transitional_detail_polls(login, projects, settings):
    settings.LIVE_POLL_SECONDS = 4
    snap = make_snapshot(projects["alpha"], status="deleting")
    html = login("demo").get(f"/snapshots/{snap.pk}/").content.decode()
    assert 'id="detail-poller"' in html
    assert f"/snapshots/{snap.pk}/live/" in html
    assert 'hx-trigger="live-changed, every 4s"' in html  # paused while hidden by dashboard.js
    assert f'value="{snap.pk}:{snap.version}"' in html


def test_names_with_html_render_as_text(login, projects):
    snap = make_snapshot(projects["alpha"], name="<script>alert(1)</script>" + "x" * 200)
    html = login("demo").get(f"/snapshots/{snap.pk}/").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_detail_query_count(login, snaps, django_assert_max_num_queries):
    client = login("admin")
    with django_assert_max_num_queries(14):
        assert client.get(f"/snapshots/{snaps['alpha'].pk}/").status_code == 200
