"""Cinder v3 snapshots: list, show, create, update, delete."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from typing import Any

from cloudsim import notify

from .errors import bad_request
from .microversions import (
    Ctx,
)
from .store import SNAPSHOT_COLUMNS, dumps
from .validation import (
    BOOL_TRUE,
    CREATE_META_KEY,
    NULLABLE_NUM,
    NULLABLE_TEXT,
    TRUTHY,
    bool_param,
    check_metadata,
    check_nullable_string,
    invalid_input,
    is_boolean_like,
    is_uuid,
    required,
)


class Snapshots:
    """Snapshot list and CRUD."""

    def _snapshot_filters(self, ctx: Ctx, params: dict) -> tuple[list[str], list]:
        """WHERE clauses (and their parameters) for a snapshot list."""
        all_tenants_raw = params.pop("all_tenants", None)
        all_tenants = False
        if all_tenants_raw is not None and ctx.is_admin:
            all_tenants = str(all_tenants_raw).strip().lower() in TRUTHY
        if ctx.at_least(3, 31):
            if not ctx.is_admin:
                configured = self.snapshot_filters()
                invalid = [k for k in params if k not in configured]
                if invalid:
                    raise bad_request(
                        f"Invalid filters {', '.join(invalid)} are found in query options."
                    )
        else:
            if not ctx.at_least(3, 22):
                params.pop("metadata", None)
            params.pop("consumes_quota", None)
            if not ctx.is_admin:
                for key in list(params):
                    if key not in ("status", "volume_id", "name", "metadata"):
                        del params[key]
        if not ctx.at_least(3, 65):
            params.pop("consumes_quota", None)

        where, args = self._project_clause(ctx, params, all_tenants)
        like = ctx.at_least(3, 34)
        for key, value in params.items():
            if key == "name":
                where.append("display_name = ?")
                args.append(value)
            elif key == "metadata":
                self._metadata_clause(value, where, args)
            elif key == "availability_zone":
                where.append("volume_id IN (SELECT id FROM volumes WHERE availability_zone = ?)")
                args.append(value)
            elif key in ("consumes_quota", "use_quota"):
                where.append("use_quota = ?")
                args.append(1 if bool_param(key, value) else 0)
            elif key == "host" and ctx.is_admin:
                where.append("volume_id IN (SELECT id FROM volumes WHERE host = ?)")
                args.append(value)
            elif like and key in ("name~", "description~", "display_name~", "display_description~"):
                col = "display_name" if "name" in key else "display_description"
                where.append(f"{col} LIKE ? ESCAPE '\\'")
                esc = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                args.append(f"%{esc}%")
            elif key in SNAPSHOT_COLUMNS and key not in NULLABLE_NUM and key != "created_at":
                where.append(f"{key} = ?")
                args.append(value)
            else:
                # an admin filter on something that is not a column matches nothing
                where.append("0")
        return where, args

    def list_snapshots(self, ctx: Ctx, detail: bool) -> tuple[int, dict]:
        self.authorize(ctx, "reader", "volume:get_all_snapshots", ctx.project_id)
        params = ctx.req.args.to_dict(flat=True)
        request = self._list_params(ctx, params)
        columns = {c: c for c in SNAPSHOT_COLUMNS}
        if ctx.at_least(3, 30):
            columns["name"] = "display_name"
        where, args = self._snapshot_filters(ctx, params)
        rows, count = self._page(
            ctx,
            request,
            table="snapshots",
            label="Snapshot",
            where=where,
            args=args,
            columns=columns,
            nullable=NULLABLE_TEXT | NULLABLE_NUM,
        )
        kind = "detail" if detail else "summary"
        items = [self.snapshot_view(r, ctx, kind) for r in rows]
        return 200, self._page_body(ctx, "snapshots", items, rows, request.limit, count)

    # -- snapshot CRUD -----------------------------------------------------------------------
    def show_snapshot(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "reader", "volume:get_snapshot", row["project_id"])
        return 200, {"snapshot": self.snapshot_view(row, ctx, "show")}

    def create_snapshot(self, ctx: Ctx) -> tuple[int, dict]:
        snap = self._envelope(
            self._json_body(ctx),
            "snapshot",
            ("name", "display_name", "description", "volume_id", "force", "metadata"),
        )
        if "volume_id" not in snap:
            raise required("snapshot", snap, "volume_id")
        vid = snap["volume_id"]
        if vid is not None and not is_uuid(vid):
            raise invalid_input(
                "volume_id", f"Value: {vid}. {vid!r} is not valid under any of the given schemas"
            )
        check_nullable_string("name", snap.get("name"))
        check_nullable_string("display_name", snap.get("display_name"))
        check_nullable_string("description", snap.get("description"), printable=True)
        if "force" in snap and not is_boolean_like(snap["force"]):
            raise invalid_input(
                "force", f"Value: {snap['force']!r}. is not one of the allowed boolean values"
            )
        check_metadata("metadata", snap.get("metadata"), CREATE_META_KEY, allow_null=True)

        vol = self.get_volume_row(ctx, vid)
        force = False
        if snap.get("force") is not None:
            force = snap["force"] is True or (
                isinstance(snap["force"], str) and snap["force"] in BOOL_TRUE
            )
            if ctx.at_least(3, 66) and not force:
                raise bad_request(
                    "Since microversion 3.66 the 'force' flag is invalid for this request.  "
                    "For backward compatability, however, when the 'force' flag is passed with "
                    "a value evaluating to True, it is silently ignored."
                )
        self.authorize(ctx, "member", "volume:create_snapshot", vol["project_id"])
        # volume/api.py _create_snapshot_in_db_validate, then create_snapshot_in_db's status check
        status = vol["status"]
        refusal = None
        if not vol["host"]:
            refusal = (
                "The snapshot cannot be created because volume has not been scheduled to any host."
            )
        elif status == "maintenance":
            refusal = "The snapshot cannot be created when the volume is in maintenance mode."
        elif vol["migration_status"] not in (None, "deleting", "error", "success"):
            refusal = "Snapshot cannot be created while volume is migrating."
        elif status == "error":
            refusal = "The snapshot cannot be created when the volume is in error status."
        elif status.startswith("replica_"):
            refusal = "Snapshot of secondary replica is not allowed."
        if refusal:
            raise bad_request(f"Invalid volume: {refusal}")
        allowed = ["available"]
        if force or ctx.at_least(3, 66):
            allowed.append("in-use")
        if status not in allowed:
            raise bad_request(
                f"Invalid volume: Volume {vid} status must be {', '.join(allowed)}, but current "
                f"status is: {status}."
            )
        self.check_snapshot_quota(ctx.project_id, vol["size"])

        name = snap["name"] if "name" in snap else snap.get("display_name")
        desc = snap.get("description")
        name = name.strip() if isinstance(name, str) else name
        desc = desc.strip() if isinstance(desc, str) else desc
        now = self.store.now()
        sid = str(uuid.uuid4())
        outcome = "available"
        if self.sim.chance("create_error_rate"):
            outcome = "error"
        due = now + self.sim.config.create_delay
        self.store.x(
            "INSERT INTO snapshots (id, created_at, updated_at, user_id, project_id, volume_id, "
            "status, progress, volume_size, display_name, display_description, use_quota, "
            "metadata, due_at, due_status) VALUES (?, ?, NULL, ?, ?, ?, 'creating', '0%', ?, ?, ?, "
            "1, ?, ?, ?)",
            (
                sid,
                now,
                ctx.user_id,
                ctx.project_id,
                vid,
                vol["size"],
                name,
                desc,
                dumps(snap.get("metadata") or {}),
                due,
                outcome,
            ),
        )
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        notify.emit(self.sim, "snapshot", row, "create.start")
        return 202, {"snapshot": self.snapshot_view(row, ctx, "create")}

    def update_snapshot(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        upd = self._envelope(
            self._json_body(ctx),
            "snapshot",
            ("name", "description", "display_name", "display_description"),
        )
        if not upd:
            raise invalid_input(
                "snapshot",
                "Value: {}. {} is not valid under any of the given schemas",
            )
        check_nullable_string("name", upd.get("name"))
        check_nullable_string("display_name", upd.get("display_name"))
        check_nullable_string("description", upd.get("description"), printable=True)
        check_nullable_string("display_description", upd.get("display_description"), printable=True)
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "member", "volume:update_snapshot", row["project_id"])
        clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in upd.items()}
        sets: dict[str, Any] = {}
        if "display_name" in clean:
            sets["display_name"] = clean["display_name"]
        if "name" in clean:
            sets["display_name"] = clean["name"]
        if "display_description" in clean:
            sets["display_description"] = clean["display_description"]
        if "description" in clean:
            sets["display_description"] = clean["description"]
        sets["updated_at"] = self.store.now()
        assign = ", ".join(f"{k} = ?" for k in sets)
        notify.emit(self.sim, "snapshot", row, "update.start")
        self.store.x(f"UPDATE snapshots SET {assign} WHERE id = ?", (*sets.values(), sid))
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        notify.emit(self.sim, "snapshot", row, "update.end")
        return 200, {"snapshot": self.snapshot_view(row, ctx, "update")}

    def _start_delete(self, sid: str, status: str = "deleting") -> None:
        now = self.store.now()
        outcome = "error_deleting" if self.sim.chance("delete_error_rate") else "gone"
        self.store.x(
            "UPDATE snapshots SET status = ?, updated_at = ?, due_at = ?, due_status = ? "
            "WHERE id = ?",
            (status, now, now + self.sim.config.delete_delay, outcome, sid),
        )
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        notify.emit(self.sim, "snapshot", row, "delete.start")

    @staticmethod
    def _check_deletable(row) -> None:
        """What a delete and an unmanage both need: available or error, and in no group."""
        if row["status"] not in ("available", "error") or row["group_snapshot_id"]:
            raise bad_request(
                "Invalid snapshot: Snapshot status must be available or error and must not be "
                "part of a group."
            )

    def delete_snapshot(self, ctx: Ctx, sid: str) -> tuple[int, None]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "member", "volume:delete_snapshot", row["project_id"])
        self._check_deletable(row)
        self._start_delete(sid)
        return 202, None
