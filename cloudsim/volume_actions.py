"""Volume actions: revert to a snapshot, reset status."""

from __future__ import annotations

from typing import Any

from cloudsim import notify

from .errors import SimError, bad_request, no_such_action, not_found
from .microversions import (
    Ctx,
)
from .validation import (
    invalid_input,
)


class VolumeActions:
    """POST /volumes/{id}/action."""

    def volume_action(self, ctx: Ctx, vid: str) -> tuple[int, None]:
        name, args = self._action_body(ctx)
        if name == "revert":
            if not ctx.at_least(3, 40):
                # a versioned action asked below its version: cinder's wsgi answers 404
                raise not_found("The resource could not be found.")
            return self._revert(ctx, vid, args)
        if name == "os-reset_status":
            return self._volume_reset_status(ctx, vid, args)
        raise no_such_action(name)

    def _revert(self, ctx: Ctx, vid: str, args: Any) -> tuple[int, None]:
        """cinder/api/v3/volumes.py revert, then volume/api.py revert_to_snapshot, in their order:
        the latest-snapshot and size checks (400) come before the policy (403) and the
        conditional status updates (409); the snapshot id is only compared, never looked up."""
        if not isinstance(args, dict):
            raise invalid_input("revert", f"Value: {args}. {args!r} is not of type 'object'")
        sid = args.get("snapshot_id")
        if sid is not None and not isinstance(sid, str):
            raise invalid_input(
                "snapshot_id", f"Value: {sid}. {sid!r} is not of type 'string', 'null'"
            )
        vol = self.get_volume_row(ctx, vid)
        vid = vol["id"]
        snap = self.store.q1(
            "SELECT * FROM snapshots WHERE volume_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (vid,),
        )
        if snap is None:
            raise bad_request(f"Volume {vid} doesn't have any snapshots.")
        if sid is None or sid != snap["id"]:
            raise bad_request(
                f"Specified snapshot {sid} is None or not the latest one of volume {vid}."
            )
        if snap["volume_size"] != vol["size"]:
            raise bad_request(
                f"Can't revert volume {vid} to its latest snapshot {sid}. The volume size must "
                "be equal to the snapshot size."
            )
        self.authorize(ctx, "member", "volume:revert_to_snapshot", vol["project_id"])
        for row, what in ((vol, "Volume"), (snap, "Snapshot")):
            if row["status"] != "available":
                raise SimError(
                    409,
                    f"Invalid {what.lower()}: Can't revert volume {vid} to its latest snapshot "
                    f"{sid}. {what}'s status must be 'available'.",
                )
        now = self.store.now()
        due = now + self.sim.config.create_delay
        self.store.x(
            "UPDATE volumes SET status = 'reverting', updated_at = ?, due_at = ?, "
            "due_status = 'available' WHERE id = ?",
            (now, due, vid),
        )
        self.store.x(
            "UPDATE snapshots SET status = 'restoring', updated_at = ?, due_at = ?, "
            "due_status = 'available' WHERE id = ?",
            (now, due, snap["id"]),
        )
        vol = self.store.q1("SELECT * FROM volumes WHERE id = ?", (vid,))
        notify.emit(self.sim, "volume", vol, "revert.start")
        return 202, None

    def _volume_reset_status(self, ctx: Ctx, vid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict) or not isinstance(args.get("status"), str):
            # volume_admin_actions' own check (its schema requires none of the three)
            raise bad_request(
                "Must specify 'status', 'attach_status' or 'migration_status' for update."
            )
        vol = self.get_volume_row(ctx, vid)
        self.authorize(
            ctx, "admin", "volume_extension:volume_admin_actions:reset_status", vol["project_id"]
        )
        status = args["status"].lower()
        if status == "in-use" and not self.store.attachment_rows(vid):
            raise bad_request(
                "Invalid volume: Cannot reset the status to in-use: the volume does not have "
                "any attachments."
            )
        self.store.x(
            "UPDATE volumes SET status = ?, updated_at = ?, due_at = NULL, due_status = NULL "
            "WHERE id = ?",
            (status, self.store.now(), vid),
        )
        return 202, None
