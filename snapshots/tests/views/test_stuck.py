"""The stuck queue: admins only, flagged or long-transitional snapshots, repairs one click away."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from snapshots.models import Snapshot
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


def test_queue_lists_flagged_and_old_transitional_snapshots(
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
