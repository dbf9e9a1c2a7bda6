"""Cinder v3 volumes: list, show, create (blank or from a snapshot), delete."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.

from __future__ import annotations

import uuid

from cloudsim import notify

from .errors import bad_request, not_found
from .microversions import (
    Ctx,
)
from .store import dumps
from .validation import (
    CREATE_META_KEY,
    DEFAULT_VOLUME_FILTERS,
    TRUTHY,
    VOLUME_SORT,
    bool_param,
    check_metadata,
    check_nullable_string,
    invalid_input,
)


class Volumes:
    """Volume list and CRUD."""

    def list_volumes(self, ctx: Ctx, detail: bool) -> tuple[int, dict]:
        self.authorize(ctx, "reader", "volume:get_all", ctx.project_id)
        params = ctx.req.args.to_dict(flat=True)
        request = self._list_params(ctx, params)
        all_tenants_raw = params.pop("all_tenants", None)
        all_tenants = bool(
            ctx.is_admin
            and all_tenants_raw is not None
            and str(all_tenants_raw).strip().lower() in TRUTHY
        )
        if ctx.at_least(3, 31) and not ctx.is_admin:
            invalid = [k for k in params if k not in DEFAULT_VOLUME_FILTERS]
            if invalid:
                raise bad_request(
                    f"Invalid filters {', '.join(invalid)} are found in query options."
                )
        where, args = self._project_clause(ctx, params, all_tenants)
        for key, value in params.items():
            if key in ("name", "display_name"):
                where.append("display_name = ?")
                args.append(value)
            elif key in (
                "status",
                "availability_zone",
                "id",
                "user_id",
                "volume_type",
                "migration_status",
            ):
                where.append(f"{key} = ?")
                args.append(value)
            elif key == "size":
                where.append("size = ?")
                args.append(value)
            elif key == "bootable":
                where.append("bootable = ?")
                args.append(1 if bool_param(key, value) else 0)
            elif key == "metadata":
                self._metadata_clause(value, where, args)
            elif key in ("consumes_quota", "group_id", "created_at", "updated_at"):
                if key == "consumes_quota":
                    where.append("use_quota = ?")
                    args.append(1 if bool_param(key, value) else 0)
                elif key == "group_id":
                    where.append("0")
            else:
                where.append("0")
        rows, count = self._page(
            ctx,
            request,
            table="volumes",
            label="Volume",
            where=where,
            args=args,
            columns=VOLUME_SORT,
            nullable={"display_name", "updated_at", "user_id"},
        )
        items = [self.volume_view(r, ctx, "detail" if detail else "summary") for r in rows]
        return 200, self._page_body(ctx, "volumes", items, rows, request.limit, count)

    def show_volume(self, ctx: Ctx, vid: str) -> tuple[int, dict]:
        row = self.get_volume_row(ctx, vid)
        self.authorize(ctx, "reader", "volume:get", row["project_id"])
        return 200, {"volume": self.volume_view(row, ctx, "detail")}

    def create_volume(self, ctx: Ctx) -> tuple[int, dict]:
        vol = self._envelope(
            self._json_body(ctx),
            "volume",
            (
                "size",
                "name",
                "display_name",
                "description",
                "display_description",
                "metadata",
                "availability_zone",
                "volume_type",
                "snapshot_id",
                "source_volid",
                "imageRef",
                "backup_id",
                "consistencygroup_id",
                "group_id",
                "multiattach",
                "scheduler_hints",
            ),
        )
        self.authorize(ctx, "member", "volume:create", ctx.project_id)
        check_nullable_string("name", vol.get("name"))
        check_nullable_string("description", vol.get("description"), printable=True)
        check_metadata("metadata", vol.get("metadata"), CREATE_META_KEY, allow_null=True)
        size = vol.get("size")
        if isinstance(size, int) and not isinstance(size, bool) and size < 1:
            # cinder's schema (parameter_types.volume_size), checked before any lookup
            raise invalid_input("size", f"Value: {size}. {size} is less than the minimum of 1")
        snap_row = None
        if vol.get("snapshot_id") is not None:
            snap_row = self.get_snapshot_row(ctx, vol["snapshot_id"])
            if snap_row["status"] != "available":
                raise bad_request(
                    "Invalid snapshot: Originating snapshot status must be one of 'available' "
                    "values"
                )
            if size is None:
                size = snap_row["volume_size"]
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            shown = (
                f"{size!r} does not match '^[0-9]+$'"
                if isinstance(size, str)
                else (f"{size!r} is not of type 'integer', 'string'")
            )
            raise invalid_input("size", f"Value: {size}. {shown}")
        if snap_row is not None and size < snap_row["volume_size"]:
            raise bad_request(
                f"Invalid input received: Volume size '{size}'GB cannot be smaller than the "
                f"snapshot size {snap_row['volume_size']}GB. They must be >= original snapshot "
                "size."
            )
        zone, vtype = self._zone_and_type(vol, snap_row)
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (ctx.project_id,))
        if proj is not None:
            self.check_volume_quota(proj, size)
        name = vol.get("name", vol.get("display_name"))
        desc = vol.get("description", vol.get("display_description"))
        now = self.store.now()
        vid = str(uuid.uuid4())
        outcome = "error" if self.sim.chance("create_error_rate") else "available"
        self.store.x(
            "INSERT INTO volumes (id, project_id, user_id, display_name, display_description, "
            "size, status, availability_zone, volume_type, host, created_at, metadata, "
            "snapshot_id, multiattach, due_at, due_status) VALUES (?, ?, ?, ?, ?, ?, 'creating', "
            "?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                vid,
                ctx.project_id,
                ctx.user_id,
                name.strip() if isinstance(name, str) else name,
                desc.strip() if isinstance(desc, str) else desc,
                size,
                zone,
                vtype,
                "cloudsim@lvm#lvm",
                now,
                dumps(vol.get("metadata") or {}),
                vol.get("snapshot_id"),
                1 if vol.get("multiattach") else 0,
                now + self.sim.config.create_delay,
                outcome,
            ),
        )
        row = self.store.q1("SELECT * FROM volumes WHERE id = ?", (vid,))
        notify.emit(self.sim, "volume", row, "create.start")
        return 202, {"volume": self.volume_view(row, ctx, "create")}

    def _zone_and_type(self, vol: dict, snap_row) -> tuple[str, str]:
        """The zone and type of a new volume, checked as cinder's create flow does."""
        source = None
        if snap_row is not None:
            source = self.store.q1("SELECT * FROM volumes WHERE id = ?", (snap_row["volume_id"],))
        zones = {r[0] for r in self.store.q("SELECT DISTINCT availability_zone FROM volumes")}
        zone = vol.get("availability_zone")
        if zone is not None and zone not in zones | {"nova"}:
            raise bad_request(f"Availability zone '{zone}' is invalid.")  # InvalidAvailabilityZone
        if source is not None:
            if zone is not None and zone != source["availability_zone"]:
                raise bad_request(
                    "Invalid input received: Volume must be in the same availability zone as "
                    "the snapshot"
                )
            zone = source["availability_zone"]
        types = {r[0] for r in self.store.q("SELECT DISTINCT volume_type FROM volumes")}
        vtype = vol.get("volume_type")
        if vtype is not None and vtype not in types | {"__DEFAULT__"}:
            raise not_found(f"Volume type with name {vtype} could not be found.")
        if vtype is None:
            vtype = source["volume_type"] if source is not None else "__DEFAULT__"
        return zone or "nova", vtype

    def delete_volume(self, ctx: Ctx, vid: str) -> tuple[int, None]:
        row = self.get_volume_row(ctx, vid)
        self.authorize(ctx, "member", "volume:delete", row["project_id"])
        cascade = bool_param("cascade", ctx.req.args.get("cascade", "false"))
        force = bool_param("force", ctx.req.args.get("force", "false"))
        deletable = ("available", "error", "error_restoring", "error_extending", "error_managing")
        if not force and (row["status"] not in deletable or self.store.attachment_rows(vid)):
            raise bad_request(
                "Invalid volume: Volume status must be available or error or error_restoring or "
                "error_extending or error_managing and must not be migrating, attached, belong "
                "to a group, have snapshots, awaiting a transfer, or be disassociated from "
                "snapshots after volume transfer."
            )
        snaps = self.store.q("SELECT id, status FROM snapshots WHERE volume_id = ?", (vid,))
        if snaps and not cascade:
            raise bad_request(
                "Invalid volume: Volume status must be available or error or error_restoring or "
                "error_extending or error_managing and must not be migrating, attached, belong "
                "to a group, have snapshots, awaiting a transfer, or be disassociated from "
                "snapshots after volume transfer."
            )
        if cascade:
            for snap in snaps:
                if snap["status"] not in ("available", "error"):
                    raise bad_request(
                        "Invalid volume: Snapshot status must be available or "
                        "error to delete the volume with cascade."
                    )
            for snap in snaps:
                self._start_delete(snap["id"])
        now = self.store.now()
        outcome = "error_deleting" if self.sim.chance("delete_error_rate") else "gone"
        self.store.x(
            "UPDATE volumes SET status = 'deleting', updated_at = ?, due_at = ?, due_status = ? "
            "WHERE id = ?",
            (now, now + self.sim.config.delete_delay, outcome, vid),
        )
        row = self.store.q1("SELECT * FROM volumes WHERE id = ?", (vid,))
        notify.emit(self.sim, "volume", row, "delete.start")
        return 202, None
