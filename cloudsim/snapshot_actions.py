"""Snapshot actions: reset/update status, force delete, unmanage."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from cloudsim import notify

from .errors import bad_request, no_such_action
from .microversions import (
    Ctx,
)
from .validation import (
    RESET_STATUS_ORDER,
    SNAPSHOT_STATUSES,
    check_keys,
    invalid_input,
    required,
)


class SnapshotActions:
    """POST /snapshots/{id}/action."""

    def snapshot_action(self, ctx: Ctx, sid: str) -> tuple[int, None]:
        name, args = self._action_body(ctx)
        handler = {
            "os-reset_status": self._reset_status,
            "os-update_snapshot_status": self._update_status,
            "os-force_delete": self._force_delete,
            "os-unmanage": self._unmanage,
        }.get(name)
        if handler is None:
            raise no_such_action(name)
        return handler(ctx, sid, args)

    def _reset_status(self, ctx: Ctx, sid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict):
            raise invalid_input("os-reset_status", f"Value: {args!r}. is not of type 'object'")
        check_keys("os-reset_status", args, ("status",))
        if "status" not in args:
            raise required("os-reset_status", args, "status")
        status = args.get("status")
        if not isinstance(status, str) or status.lower() not in SNAPSHOT_STATUSES:
            raise bad_request(
                f"Snapshot status: {status} is invalid, valid statuses are: {RESET_STATUS_ORDER}."
            )
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(
            ctx, "admin", "volume_extension:snapshot_admin_actions:reset_status", row["project_id"]
        )
        notify.emit(self.sim, "snapshot", row, "reset_status.start")
        self.store.x(
            "UPDATE snapshots SET status = ?, updated_at = ?, due_at = NULL, due_status = NULL "
            "WHERE id = ?",
            (status.lower(), self.store.now(), sid),
        )
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        notify.emit(self.sim, "snapshot", row, "reset_status.end")
        return 202, None

    def _update_status(self, ctx: Ctx, sid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict):
            raise invalid_input(
                "os-update_snapshot_status", f"Value: {args!r}. is not of type 'object'"
            )
        check_keys("os-update_snapshot_status", args, ("status", "progress"))
        status = args.get("status")
        if not isinstance(status, str):
            raise invalid_input("status", f"Value: {status!r}. is not of type 'string'")
        progress = args.get("progress")
        if "progress" in args:
            ok = isinstance(progress, str)
            if ok and progress:
                try:
                    pct = int(progress[:-1])
                    ok = progress.endswith("%") and 0 <= pct <= 100
                except ValueError:
                    ok = False
            if not ok:
                raise bad_request(
                    "Invalid input received: progress must be an integer percentage between "
                    "0 and 100"
                )
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(
            ctx,
            "member",
            "snapshot_extension:snapshot_actions:update_snapshot_status",
            row["project_id"],
        )
        rules = {
            "creating": ("creating", "available", "error"),
            "deleting": ("deleting", "error_deleting"),
        }
        current = row["status"]
        if current not in rules:
            raise bad_request(f"Snapshot status {current} not allowed for update_snapshot_status")
        if status not in rules[current]:
            raise bad_request(
                f"Provided snapshot status {status} not allowed for snapshot with status {current}."
            )
        sets = {
            "status": status,
            "updated_at": self.store.now(),
            "due_at": None,
            "due_status": None,
        }
        if progress:
            sets["progress"] = progress
        elif current == "creating" and row["due_at"] is not None:
            sets["progress"] = self.progress(row)
        assign = ", ".join(f"{k} = ?" for k in sets)
        self.store.x(f"UPDATE snapshots SET {assign} WHERE id = ?", (*sets.values(), sid))
        return 202, None

    def _force_delete(self, ctx: Ctx, sid: str, _args: Any) -> tuple[int, None]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(
            ctx, "admin", "volume_extension:snapshot_admin_actions:force_delete", row["project_id"]
        )
        if row["group_snapshot_id"] or row["cgsnapshot_id"]:
            raise bad_request(
                "Invalid snapshot: Snapshot status must be available or error and must not be "
                "part of a group."
            )
        self._start_delete(sid)
        return 202, None

    def _unmanage(self, ctx: Ctx, sid: str, _args: Any) -> tuple[int, None]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "admin", "snapshot_extension:snapshot_unmanage", row["project_id"])
        self._check_deletable(row)
        self._start_delete(sid, status="unmanaging")
        return 202, None
