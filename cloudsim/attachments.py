"""Cinder v3 attachments (3.27+): reserve, complete (3.44), list, show, delete.

A volume becomes `in-use` here the way it does on a real cloud: `POST /attachments` reserves it
(`reserved`, or `attaching` when a connector is given), `os-complete` marks the attachment
`attached` and the volume `in-use`, and deleting the last attachment makes it `available`.
"""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.

from __future__ import annotations

import json
import uuid

from .errors import bad_request, not_found
from .microversions import Ctx
from .store import dumps, iso
from .validation import invalid_input, is_uuid, required


class Attachments:
    """POST/GET/DELETE /attachments and POST /attachments/{id}/action."""

    def _attachments_supported(self, ctx: Ctx, minor: int = 27) -> None:
        if not ctx.at_least(3, minor):
            raise not_found("The resource could not be found.")

    def attachment_view(self, row, detail: bool = True) -> dict:
        out = {
            "id": row["id"],
            "status": row["status"],
            "instance": row["instance_uuid"],
            "volume_id": row["volume_id"],
        }
        if detail:
            out.update(
                {
                    # cinder's attachment view: a time never set is "" (not null); only a
                    # connector sets attach_time, os-complete does not
                    "attached_at": iso(row["attached_at"]) if row["attached_at"] else "",
                    "detached_at": "",
                    "attach_mode": row["attach_mode"],
                    "connection_info": json.loads(row["connector"]) if row["connector"] else {},
                }
            )
        return out

    def _attachment_row(self, ctx: Ctx, aid: str):
        row = self.store.q1("SELECT * FROM attachments WHERE id = ?", (aid,))
        if row is None or (not ctx.is_admin and row["project_id"] != ctx.project_id):
            # exception.VolumeAttachmentNotFound with cinder's attachment_id filter
            raise not_found(
                f"Volume attachment could not be found with filter: attachment_id = {aid}."
            )
        return row

    def create_attachment(self, ctx: Ctx) -> tuple[int, dict]:
        self._attachments_supported(ctx)
        body = self._envelope(
            self._json_body(ctx),
            "attachment",
            ("instance_uuid", "connector", "volume_uuid", "mode"),
        )
        if "volume_uuid" not in body:
            raise required("attachment", body, "volume_uuid")
        instance = body.get("instance_uuid")
        if "instance_uuid" in body and not isinstance(instance, str):
            raise invalid_input(
                "instance_uuid", f"Value: {instance}. {instance!r} is not of type 'string'"
            )
        if instance is not None and not is_uuid(instance):
            raise invalid_input("instance_uuid", f"Value: {instance}. {instance!r} is not a 'uuid'")
        # 'null' (a string) unless 3.54's mode says otherwise (api/v3/attachments.py create)
        mode = body.get("mode", "null")
        if "mode" in body and not ctx.at_least(3, 54):
            raise invalid_input("attachment", "Additional properties are not allowed ('mode')")
        if "mode" in body and mode not in ("rw", "ro"):
            raise bad_request(f"Invalid input received: Invalid attachment mode: {mode}")
        connector = body.get("connector")
        if connector is not None and not isinstance(connector, dict):
            raise invalid_input("connector", f"Value: {connector!r}. is not of type 'object'")
        vol = self.get_volume_row(ctx, body["volume_uuid"])
        self.authorize(ctx, "member", "volume:attachment_create", vol["project_id"])
        existing = self.store.attachment_rows(vol["id"])
        if vol["status"] not in ("available", "in-use", "downloading", "reserved") or (
            existing and not vol["multiattach"]
        ):
            raise bad_request(
                f"Invalid volume: Volume {vol['id']} status must be available or downloading "
                f"to reserve, but the current status is {vol['status']}."
            )
        now = self.store.now()
        aid = str(uuid.uuid4())
        status = "attaching" if connector else "reserved"
        self.store.x(
            "INSERT INTO attachments (id, volume_id, project_id, instance_uuid, status, "
            "attach_mode, connector, attached_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                aid,
                vol["id"],
                vol["project_id"],
                instance,
                status,
                ("rw" if mode == "null" else mode) if connector else mode,
                dumps({"driver_volume_type": "iscsi", "data": {}}) if connector else None,
                now if connector else None,
                now,
            ),
        )
        if vol["status"] != "in-use":
            self.store.x(
                "UPDATE volumes SET status = ?, updated_at = ? WHERE id = ?",
                (status, now, vol["id"]),
            )
        row = self.store.q1("SELECT * FROM attachments WHERE id = ?", (aid,))
        return 200, {"attachment": self.attachment_view(row)}

    def list_attachments(self, ctx: Ctx, detail: bool = False) -> tuple[int, dict]:
        self._attachments_supported(ctx)
        self.authorize(ctx, "reader", "volume:attachment_get_all", ctx.project_id)
        sql, args = "SELECT * FROM attachments WHERE 1", []
        if not ctx.is_admin:
            sql += " AND project_id = ?"
            args.append(ctx.project_id)
        for key, col in (("volume_id", "volume_id"), ("instance_id", "instance_uuid")):
            if key in ctx.req.args:
                sql += f" AND {col} = ?"
                args.append(ctx.req.args[key])
        rows = self.store.q(sql + " ORDER BY created_at DESC, id DESC", args)
        return 200, {"attachments": [self.attachment_view(r, detail) for r in rows]}

    def list_attachments_detail(self, ctx: Ctx) -> tuple[int, dict]:
        return self.list_attachments(ctx, detail=True)

    def show_attachment(self, ctx: Ctx, aid: str) -> tuple[int, dict]:
        self._attachments_supported(ctx)
        row = self._attachment_row(ctx, aid)
        self.authorize(ctx, "reader", "volume:attachment_get", row["project_id"])
        return 200, {"attachment": self.attachment_view(row)}

    def attachment_action(self, ctx: Ctx, aid: str) -> tuple[int, None]:
        self._attachments_supported(ctx, 44)
        body = self._json_body(ctx)
        if not isinstance(body, dict) or list(body) != ["os-complete"]:
            raise bad_request("Malformed request body")
        # cinder ignores the action's value (openstacksdk sends the attachment id)
        row = self._attachment_row(ctx, aid)
        self.authorize(ctx, "member", "volume:attachment_complete", row["project_id"])
        now = self.store.now()
        self.store.x("UPDATE attachments SET status = 'attached' WHERE id = ?", (aid,))
        self.store.x(
            "UPDATE volumes SET status = 'in-use', updated_at = ? WHERE id = ?",
            (now, row["volume_id"]),
        )
        return 204, None

    def delete_attachment(self, ctx: Ctx, aid: str) -> tuple[int, dict]:
        self._attachments_supported(ctx)
        row = self._attachment_row(ctx, aid)
        self.authorize(ctx, "member", "volume:attachment_delete", row["project_id"])
        self.store.x("DELETE FROM attachments WHERE id = ?", (aid,))
        left = self.store.attachment_rows(row["volume_id"])
        attached = [a for a in left if a["status"] == "attached"]
        status = "in-use" if attached else ("reserved" if left else "available")
        self.store.x(
            "UPDATE volumes SET status = ?, updated_at = ? WHERE id = ?",
            (status, self.store.now(), row["volume_id"]),
        )
        return 200, {"attachments": [self.attachment_view(a, detail=False) for a in left]}
