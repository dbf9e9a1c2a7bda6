"""The stuck queue: admins only, the snapshots the workers flagged, repairs one click away."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from snapshots.models import Snapshot
from snapshots.services import mirror
from snapshots.tests.actions_helpers import (
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
    signed_in,
)


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-snapshot="([^"]+)">', html)


def test_only_admins_see_the_queue(mirrored):
    assert signed_in(mirrored, "demo").get("/snapshots/stuck/").status_code == 403
    assert signed_in(mirrored, "auditor").get("/snapshots/stuck/").status_code == 403
    assert signed_in(mirrored, "admin").get("/snapshots/stuck/").status_code == 200


def test_queue_lists_the_snapshots_the_workers_flagged(
    mirrored, settings, django_assert_max_num_queries
):
    settings.STUCK_AFTER = timedelta(minutes=30)
    now = timezone.now()
    old = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    old_creating = make_snapshot(mirrored, "gamma", "creating", created_at=old)
    fresh_deleting = make_snapshot(mirrored, "alpha", "deleting")
    flagged = make_snapshot(mirrored, "alpha", "error_deleting")
    Snapshot.objects.filter(pk=flagged.id).update(stuck_since=now)
    old_available = make_snapshot(mirrored, "alpha", "available", created_at=old)
    # The mirror has seen old_creating in `creating` for two hours; the workers' sweep flags it.
    Snapshot.objects.filter(pk__in=[old_creating.id, old_available.id]).update(
        status_since=now - timedelta(hours=2)
    )
    assert mirror.flag_stuck_rows(now) == 1
    client = signed_in(mirrored, "admin")
    with django_assert_max_num_queries(8):
        page = client.get("/snapshots/stuck/")
    html = page.content.decode()
    listed = _listed(html)
    assert old_creating.id in listed and flagged.id in listed
    assert fresh_deleting.id not in listed and old_available.id not in listed
    assert listed.index(old_creating.id) < listed.index(flagged.id)  # longest stuck first
    for action in ("reset-status", "force-delete", "set-status"):
        assert f"/snapshots/{old_creating.id}/{action}/?next=/snapshots/stuck/" in html
    assert 'formaction="/snapshots/bulk/reset-status/"' in html


def test_nothing_stuck(mirrored):
    Snapshot.objects.update(deleted_at=timezone.now())  # as if all of them were gone
    html = signed_in(mirrored, "admin").get("/snapshots/stuck/").content.decode()
    assert 'id="nothing-stuck"' in html


def test_stuck_page_overview_and_list_filter_agree(mirrored, settings):
    """A data set on which the three old definitions of "stuck" disagreed: the Stuck page
    (flag, or old by Cinder's timestamps), the overview (flag only) and the list's filter.
    All three now read the workers' flag, so they list the same snapshots."""
    settings.STUCK_AFTER = timedelta(minutes=30)
    now = timezone.now()
    old = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    # Cinder's timestamps are old but the mirror saw it enter `creating` a minute ago (an
    # unmanaged snapshot re-adopted, a reset): not stuck for the workers, stuck for the old page.
    recent = make_snapshot(mirrored, "alpha", "creating", created_at=old)
    Snapshot.objects.filter(pk=recent.id).update(
        status_since=now - timedelta(minutes=1), stuck_since=None
    )
    # Flagged by the workers.
    flagged = make_snapshot(mirrored, "beta", "deleting")
    Snapshot.objects.filter(pk=flagged.id).update(
        status_since=now - timedelta(hours=1), stuck_since=now - timedelta(minutes=30)
    )
    # Not stuck by any account.
    make_snapshot(mirrored, "alpha", "available", created_at=old)

    client = signed_in(mirrored, "admin")
    stuck_page = set(_listed(client.get("/snapshots/stuck/").content.decode()))
    overview = client.get("/snapshots/overview/").context["data"].stuck
    filtered = client.get("/snapshots/", {"stuck": "on", "per_page": "100"})
    listed = {r.pk for r in filtered.context["table"].page_records}

    assert stuck_page == {flagged.id}
    assert {s.pk for s in overview.rows} == stuck_page and overview.count == len(stuck_page)
    assert listed == stuck_page
