"""The volumes page for every role: Cinder's list, mirror counts in one query, outage fallback."""

from __future__ import annotations

import re

from snapshots.models import Snapshot
from snapshots.tests.actions_helpers import (
    cinder_calls,
    mirror_volumes,
    mirrored_fixture,  # noqa: F401 (the fixture)
    signed_in,
    volumes_of,
)
from snapshots.tests.factories import make_volume


def _rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-volume="([^"]+)">(.*?)</tr>', html, re.S))


def test_member_sees_the_projects_volumes_with_counts(mirrored, django_assert_max_num_queries):
    client = signed_in(mirrored, "demo")
    with django_assert_max_num_queries(8):
        page = client.get("/snapshots/volumes/")
    assert page.status_code == 200
    rows = _rows(page.content.decode())
    alpha = volumes_of(mirrored, "alpha")
    assert set(rows) == {v["id"] for v in alpha.values()}
    for volume in alpha.values():
        count = Snapshot.objects.live().filter(volume_id=volume["id"]).count()
        assert f">{count}</a>" in rows[volume["id"]]
        if volume["status"] in ("available", "in-use"):
            assert f"/snapshots/create/?volume={volume['id']}" in rows[volume["id"]]
        else:
            assert (
                "disabled" in rows[volume["id"]]
                and "Cinder cannot snapshot it" in rows[volume["id"]]
            )


def test_query_count_does_not_grow_with_volumes(mirrored, django_assert_max_num_queries):
    for i in range(15):
        mirrored.create_volume("alpha", name=f"extra-{i:02d}", size=1)
    mirror_volumes()
    client = signed_in(mirrored, "demo")
    with django_assert_max_num_queries(8):
        page = client.get("/snapshots/volumes/")
    assert len(_rows(page.content.decode())) == len(volumes_of(mirrored, "alpha"))


def test_reader_sees_volumes_without_the_button(mirrored):
    page = signed_in(mirrored, "auditor").get("/snapshots/volumes/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "db-replica" in html and "Snapshot this volume" not in html


def test_admin_sees_the_current_projects_volumes(mirrored):
    page = signed_in(mirrored, "admin", project="gamma").get("/snapshots/volumes/")
    rows = _rows(page.content.decode())
    assert set(rows) == {v["id"] for v in volumes_of(mirrored, "gamma").values()}


def test_the_page_reads_the_volume_mirror_only(mirrored):
    make_volume(mirrored.project_id("alpha"), name="known-before", size=3)  # the mirror only
    make_volume(mirrored.project_id("gamma"), name="not-ours", size=3)  # the mirror only
    client = signed_in(mirrored, "demo")
    mirrored.faults(cinder_down=True)
    mirrored.reset_stats()
    page = client.get("/snapshots/volumes/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "known-before" in html and "not-ours" not in html
    assert cinder_calls(mirrored) == 0


def test_post_is_not_allowed(mirrored):
    assert signed_in(mirrored, "demo").post("/snapshots/volumes/").status_code == 405
