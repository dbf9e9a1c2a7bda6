"""Sync of snapshots made, renamed and deleted outside the dashboard; paging; the list built from
the mirror (projects, filters, sort keys) compared with what Cinder itself says."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from snapshots.tests.paging import snapshot_pages
from tests.behaviour.helpers import (
    create_outside,
    listing,
    mirror_matches,
    row,
    sign_in,
    sync_all,
)


def test_sync_sees_outside_create_rename_and_delete(keystone_mode, made, tag):
    backend = keystone_mode
    outside = backend.outside("alpha")
    kept = create_outside(
        backend, made, "alpha", f"{tag}-kept", description="made outside", metadata={"k": "v"}
    )
    dropped = create_outside(backend, made, "alpha", f"{tag}-dropped", volume=1)
    other = create_outside(backend, made, "beta", f"{tag}-beta")

    result = sync_all()
    assert result.seen >= 3 and result.new >= 3
    for data in (kept, dropped, other):
        mirror_matches(
            outside.get_snapshot(data.id)
            if data.project_id != other.project_id
            else backend.outside("beta").get_snapshot(data.id)
        )
    assert row(kept.id).volume_name == "alpha-vol-1"
    assert row(other.id).project_name == "beta"

    outside.update_snapshot(kept.id, name=f"{tag}-renamed", description="renamed outside")
    outside.set_snapshot_metadata(kept.id, {"added": "later"})
    outside.delete_snapshot(dropped.id)
    backend.wait_gone("alpha", dropped.id)

    result = sync_all()
    assert result.gone >= 1 and result.changed >= 1
    renamed = outside.get_snapshot(kept.id)
    assert (renamed.name, renamed.metadata) == (f"{tag}-renamed", {"k": "v", "added": "later"})
    mirror_matches(renamed)
    assert row(dropped.id).deleted_at is not None
    assert row(other.id).deleted_at is None


def test_sync_pages_through_more_than_one_page(keystone_mode, made, tag, settings):
    backend = keystone_mode
    ids = [
        create_outside(backend, made, "gamma", f"{tag}-{n}", volume=n % 3, wait=False).id
        for n in range(5)
    ]
    for sid in ids:
        backend.wait_status("gamma", sid, "available")
    settings.SYNC_PAGE_SIZE = 2
    result = sync_all()
    # Marker paging: a page of 2 until a short one (an empty one when the count is even).
    assert result.pages == result.seen // 2 + 1
    assert result.seen >= 5
    for sid in ids:
        mirror_matches(backend.outside("gamma").get_snapshot(sid))
    # The same rows as one big page would give.
    everyone = {
        s.id
        for page in snapshot_pages(backend.outside("gamma"), page_size=1000)
        for s in page.items
    }
    assert set(ids) <= everyone


def test_admin_list_shows_every_project_after_sync(keystone_mode, made, tag):
    backend = keystone_mode
    for project in ("alpha", "beta", "gamma"):
        create_outside(backend, made, project, f"{tag}-{project}")
    sync_all()

    admin = sign_in(backend, "admin", project="alpha")
    page = admin.get("/snapshots/", {"q": tag})
    html = page.content.decode()
    for project in ("alpha", "beta", "gamma"):
        assert f"{tag}-{project}" in html
        assert f">{project}<" in html
    rows = listing(admin, q=tag, sort="name")
    assert [(r["name"], r["project"]) for r in rows] == [
        (f"{tag}-{p}", p) for p in ("alpha", "beta", "gamma")
    ]
    # The admin's project filter offers every project, by name.
    only_beta = listing(admin, q=tag, project=backend.project_id("beta"))
    assert [r["name"] for r in only_beta] == [f"{tag}-beta"]

    # A member sees the current project only, a reader every project they hold a role on.
    member = sign_in(backend, "demo", project="alpha")
    assert [r["name"] for r in listing(member, q=tag)] == [f"{tag}-alpha"]
    auditor = sign_in(backend, "auditor", project="alpha")
    assert len(listing(auditor, q=tag)) == 3


def test_list_filters_and_sort_keys_match_cinder(keystone_mode, made, tag):
    backend = keystone_mode
    outside = backend.outside("alpha")
    made_ = [
        create_outside(backend, made, "alpha", f"{tag}-b", volume=0, metadata={"owner": "ops"}),
        create_outside(backend, made, "alpha", f"{tag}-c", volume=1, description="x"),
        create_outside(backend, made, "alpha", f"{tag}-a", volume=2),
    ]
    failed = made_[1]
    outside.reset_snapshot_status(failed.id, "error")
    backend.wait_status("alpha", failed.id, "error")
    sync_all()
    for data in made_:
        mirror_matches(outside.get_snapshot(data.id))

    admin = sign_in(backend, "admin", project="alpha")

    def names(**params):
        return [r["name"] for r in listing(admin, q=tag, **params)]

    assert sorted(names()) == [f"{tag}-a", f"{tag}-b", f"{tag}-c"]
    assert names(status="error") == [f"{tag}-c"]
    assert names(status="available", sort="name") == [f"{tag}-a", f"{tag}-b"]
    assert names(failed="on") == [f"{tag}-c"]
    assert names(volume="alpha-vol-3") == [f"{tag}-a"]
    assert names(volume=backend.volume_ids("alpha")[1]) == [f"{tag}-c"]
    assert names(meta_key="owner") == [f"{tag}-b"]
    assert names(meta_key="owner", meta_value="ops") == [f"{tag}-b"]
    assert names(meta_key="owner", meta_value="dev") == []
    assert names(size_min=1, size_max=1, sort="name") == [f"{tag}-a", f"{tag}-b", f"{tag}-c"]
    assert names(size_min=2) == []
    assert names(project=backend.project_id("beta")) == []
    for data in made_:  # a day range holding the day the snapshot was made, in the list's zone
        day = timezone.localtime(row(data.id).created_at).date()
        assert data.name in names(created_after=day.isoformat(), created_before=day.isoformat())
        assert names(created_after=(day + timedelta(days=1)).isoformat()) == []

    # Sort keys: the mirror's order is Cinder's order for the same key.
    def cinder_order(sort: str) -> list[str]:
        mine = {d.id for d in made_}
        page = outside.list_snapshots(sort=sort, limit=1000)
        return [s.name for s in page.items if s.id in mine]

    assert names(sort="name") == cinder_order("name:asc") == [f"{tag}-{x}" for x in "abc"]
    assert names(sort="-name") == cinder_order("name:desc")
    assert names(sort="created") == cinder_order("created_at:asc")
    assert names(sort="-created") == cinder_order("created_at:desc")
    assert names(sort="status")[-1] == f"{tag}-c"  # available < error
    assert names(sort="-status")[0] == f"{tag}-c"
    assert cinder_order("status:asc")[-1] == cinder_order("status:desc")[0] == f"{tag}-c"
    assert names(sort="volume") == [f"{tag}-b", f"{tag}-c", f"{tag}-a"]
    ids_sorted = sorted(d.id for d in made_)
    assert [r["id"] for r in listing(admin, q=tag, sort="id")] == ids_sorted
