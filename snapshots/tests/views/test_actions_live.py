"""Live pages stay whole: when the live poll brings a new status, the actions offered on the
detail page and in the row change with it."""

from __future__ import annotations

from snapshots.choices import ChangeSource
from snapshots.cloud.credentials import service_gateway
from snapshots.services import mirror
from snapshots.tests.actions_helpers import (
    actor,
    mirrored_fixture,  # noqa: F401 (the fixture)
    pick,
    signed_in,
)


def _becomes_available(cloud, snapshot_id: str) -> None:
    """Cinder finishes the snapshot and the worker records it (no reload of the page)."""
    actor(cloud, "admin", "alpha").gateway.reset_snapshot_status(snapshot_id, "available")
    mirror.apply(service_gateway().get_snapshot(snapshot_id), source=ChangeSource.TRACK)


def test_detail_action_bar_follows_the_live_status(mirrored):
    snap = pick(mirrored.project_id("alpha"), "creating")
    client = signed_in(mirrored, "demo")
    page = client.get(f"/snapshots/{snap.id}/").content.decode()
    assert 'id="delete-why"' in page and f"/snapshots/{snap.id}/delete/" not in page

    _becomes_available(mirrored, snap.id)
    live = client.get(f"/snapshots/{snap.id}/live/", {"row": f"{snap.id}:{snap.version}"})
    html = live.content.decode()
    assert '<div id="detail-actions" hx-swap-oob="true">' in html
    assert f'href="/snapshots/{snap.id}/delete/"' in html and 'id="delete-why"' not in html


def test_a_live_row_brings_its_actions(mirrored):
    snap = pick(mirrored.project_id("alpha"), "creating")
    client = signed_in(mirrored, "demo")
    _becomes_available(mirrored, snap.id)
    live = client.get("/snapshots/live/", {"row": f"{snap.id}:{snap.version}"})
    html = live.content.decode()
    assert f'id="row-{snap.id}"' in html
    assert f'href="/snapshots/{snap.id}/delete/"' in html


def test_a_reader_gets_no_actions_in_the_live_fragment(mirrored):
    snap = pick(mirrored.project_id("alpha"), "creating")
    client = signed_in(mirrored, "auditor")
    _becomes_available(mirrored, snap.id)
    html = client.get(
        f"/snapshots/{snap.id}/live/", {"row": f"{snap.id}:{snap.version}"}
    ).content.decode()
    assert "snapshot-actions" not in html and "/delete/" not in html
