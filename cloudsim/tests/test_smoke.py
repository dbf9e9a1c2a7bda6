"""The basic path the dashboard relies on: sign in, list, create, wait, delete."""

from __future__ import annotations


def test_sdk_round_trip(sim, conn):
    snaps = list(conn.block_storage.snapshots())
    assert snaps
    assert all(s.project_id == sim.project_id("alpha") for s in snaps)
    vol = next(v for v in conn.block_storage.volumes() if v.status == "available")
    snap = conn.block_storage.create_snapshot(volume_id=vol.id, name="smoke")
    assert snap.status == "creating"
    sim.advance(5)
    snap = conn.block_storage.get_snapshot(snap.id)
    assert snap.status == "available"
    assert snap.progress == "100%"
    conn.block_storage.delete_snapshot(snap)
    sim.advance(5)
    assert conn.block_storage.find_snapshot(snap.id, ignore_missing=True) is None
