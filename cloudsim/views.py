"""Response bodies of snapshots and volumes, per microversion, role and call."""

from __future__ import annotations

import json

from .microversions import (
    Ctx,
)
from .store import iso, stable_id


class Views:
    """Snapshot and volume bodies."""

    def progress(self, row) -> str | None:
        if (
            row["status"] == "creating"
            and row["due_at"] is not None
            and "creating" not in self.store.stuck
        ):
            span = row["due_at"] - row["created_at"]
            done = self.store.now() - row["created_at"]
            pct = 99 if span <= 0 else int(max(0.0, min(0.99, done / span)) * 100)
            return f"{pct}%"
        return row["progress"]

    def snapshot_view(self, row, ctx: Ctx, kind: str) -> dict:
        out = {
            "id": row["id"],
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "name": row["display_name"],
            "description": row["display_description"],
            "volume_id": row["volume_id"],
            "status": row["status"],
            "size": row["volume_size"],
            "metadata": json.loads(row["metadata"]),
        }
        if kind != "summary":
            if ctx.at_least(3, 14):
                out["group_snapshot_id"] = row["group_snapshot_id"]
            if ctx.at_least(3, 41):
                out["user_id"] = row["user_id"]
            if ctx.at_least(3, 65):
                out["consumes_quota"] = bool(row["use_quota"])
        if kind in ("detail", "show"):
            out["os-extended-snapshot-attributes:project_id"] = row["project_id"]
            out["os-extended-snapshot-attributes:progress"] = self.progress(row)
        return out

    def resource_links(self, ctx: Ctx, collection: str, rid: str) -> list[dict]:
        """Cinder's `links` of a resource: the versioned URL and the bookmark without version."""
        return [
            {"rel": "self", "href": f"{ctx.base}/volume/v3/{ctx.project_id}/{collection}/{rid}"},
            {"rel": "bookmark", "href": f"{ctx.base}/volume/{ctx.project_id}/{collection}/{rid}"},
        ]

    def volume_view(self, row, ctx: Ctx, kind: str) -> dict:
        if kind == "summary":
            return {
                "id": row["id"],
                "name": row["display_name"],
                "links": self.resource_links(ctx, "volumes", row["id"]),
            }
        # cinder lists only the attachments that are `attached` in a volume's body
        attachments = [
            {
                "id": row["id"],
                "attachment_id": att["id"],
                "volume_id": row["id"],
                "server_id": att["instance_uuid"],
                "host_name": None,
                "device": "/dev/vdb",
                "attached_at": iso(att["attached_at"]),
            }
            for att in self.store.attachment_rows(row["id"], attached_only=True)
        ]
        out = {
            "id": row["id"],
            "name": row["display_name"],
            "description": row["display_description"],
            "status": row["status"],
            "size": row["size"],
            "availability_zone": row["availability_zone"],
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "attachments": attachments,
            "bootable": "true" if row["bootable"] else "false",
            "encrypted": False,
            "multiattach": bool(row["multiattach"]),
            "metadata": json.loads(row["metadata"]),
            "snapshot_id": row["snapshot_id"],
            "source_volid": None,
            "volume_type": row["volume_type"],
            "user_id": row["user_id"],
            "consistencygroup_id": None,
            "replication_status": None,
            "links": self.resource_links(ctx, "volumes", row["id"]),
            "os-vol-tenant-attr:tenant_id": row["project_id"],
        }
        if ctx.is_admin:  # cinder's legacy_detail shows migration_status to admins only
            out["migration_status"] = row["migration_status"]
            out["os-vol-host-attr:host"] = row["host"]
            out["os-vol-mig-status-attr:migstat"] = row["migration_status"]
            out["os-vol-mig-status-attr:name_id"] = None
        if ctx.at_least(3, 13):
            out["group_id"] = None
        if ctx.at_least(3, 21) and ctx.is_admin:
            out["provider_id"] = None
        if ctx.at_least(3, 48):
            out["shared_targets"] = False
            out["service_uuid"] = stable_id("service", "cinder-volume")
        if ctx.at_least(3, 61) and ctx.is_admin:
            out["cluster_name"] = None
        if ctx.at_least(3, 63):
            out["volume_type_id"] = stable_id("volume_type", row["volume_type"])
        if ctx.at_least(3, 65):
            out["consumes_quota"] = bool(row["use_quota"])
        if kind == "create":
            # the os-vol-* extensions extend show and detail, not create; the volume has no
            # service until the scheduler placed it
            for key in [k for k in out if k.startswith("os-vol-")]:
                del out[key]
            if "service_uuid" in out:
                out["service_uuid"] = None
        return out
