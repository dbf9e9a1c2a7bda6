"""Manageable snapshots (3.8+) and os-snapshot-manage: what a backend holds that Cinder does not.

The backend is the LVM driver's picture: a snapshot is a logical volume `_snapshot-<id>` whose
origin is `volume-<volume id>`; an unmanaged snapshot stays there (store.keep_on_backend), and
managing it back makes a new Cinder snapshot of it (`creating`, then `available`, or `error` when
the reference names nothing on the volume's host).
"""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.

from __future__ import annotations

import uuid
from typing import Any

from .errors import bad_request, not_found
from .microversions import Ctx
from .store import dumps
from .store_workflows import MANAGE_ATTEMPT
from .validation import (
    CREATE_META_KEY,
    check_metadata,
    check_nullable_string,
    invalid_input,
    is_uuid,
    required,
)


def backend_of(host: str | None) -> str:
    """`host@backend` of a volume host `host@backend#pool`."""
    return (host or "").partition("#")[0]


def _manageable_sort(params: dict) -> tuple[list[str], list[str]]:
    """cinder.api.common.get_sort_params with default key `reference`, directions unchecked."""
    if "sort" in params and ("sort_key" in params or "sort_dir" in params):
        raise bad_request(
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with "
            "the 'sort' parameter."
        )
    if "sort" not in params:
        return [params.pop("sort_key", "reference").strip()], [
            params.pop("sort_dir", "desc").strip()
        ]
    keys, dirs = [], []
    for item in params.pop("sort").strip().split(","):
        key, _sep, direction = item.partition(":")
        keys.append(key.strip())
        dirs.append((direction or "desc").strip())
    return keys, dirs


class Manageable:
    """GET /manageable_snapshots[/detail], POST /manageable_snapshots and /os-snapshot-manage."""

    def _manageable_entries(self, host: str) -> list[dict]:
        entries = []
        for snap in self.store.q(
            "SELECT s.id, s.volume_id, s.volume_size, v.host FROM snapshots s "
            "JOIN volumes v ON v.id = s.volume_id"
        ):
            if backend_of(snap["host"]) == host:
                entries.append(
                    {
                        "reference": {"source-name": f"_snapshot-{snap['id']}"},
                        "size": snap["volume_size"],
                        "safe_to_manage": False,
                        "reason_not_safe": "already managed",
                        "cinder_id": snap["id"],
                        "extra_info": None,
                        "source_reference": {"source-name": f"volume-{snap['volume_id']}"},
                    }
                )
        for row in self.store.q("SELECT * FROM backend_snapshots"):
            if backend_of(row["host"]) == host:
                entries.append(
                    {
                        "reference": {"source-name": row["name"]},
                        "size": row["size"],
                        "safe_to_manage": True,
                        "reason_not_safe": None,
                        "cinder_id": None,
                        "extra_info": None,
                        "source_reference": {"source-name": f"volume-{row['volume_id']}"},
                    }
                )
        return entries

    def _known_hosts(self) -> set[str]:
        rows = self.store.q("SELECT DISTINCT host FROM volumes WHERE host IS NOT NULL")
        return {backend_of(r["host"]) for r in rows}

    def list_manageable(self, ctx: Ctx, detail: bool = False) -> tuple[int, dict]:
        if not ctx.at_least(3, 8):
            raise not_found("The resource could not be found.")
        self.authorize(ctx, "admin", "snapshot_extension:list_manageable", ctx.project_id)
        params = ctx.req.args.to_dict(flat=True)
        host = params.pop("host", None)
        cluster = params.pop("cluster", None) if ctx.at_least(3, 17) else None
        if (host is None) == (cluster is None):
            # cinder.api.common.get_cluster_host: the text depends on whether `cluster` exists
            reason = (
                "One and only one of cluster and host must be set."
                if ctx.at_least(3, 17)
                else "Host field is missing."
            )
            raise bad_request(f"Invalid input received: {reason}")
        limit, marker, offset = self._page_params(params)
        # cinder/api/contrib/resource_common_manage.py: sort keys and directions are checked
        # (default `reference:desc`) before the volume service is looked up
        keys, dirs = _manageable_sort(params)
        bad_keys = [k for k in keys if k not in ("reference", "size")]
        if bad_keys:
            raise bad_request(f"Invalid sort keys passed: {', '.join(bad_keys)}")
        bad_dirs = [d for d in dirs if d not in ("asc", "desc")]
        if bad_dirs:
            raise bad_request(f"Invalid sort dirs passed: {', '.join(bad_dirs)}")
        # volume/api.py _get_service_by_host_cluster: exception.ServiceNotFound's two texts
        if cluster is not None:
            raise not_found("Service cinder-volume could not be found.")
        host = backend_of(host)
        if host not in self._known_hosts():
            raise not_found(f"Service cinder-volume could not be found on host {host}.")
        entries = self._manageable_entries(host)
        for key, direction in reversed(list(zip(keys, dirs, strict=True))):
            entries.sort(
                key=lambda e, k=key: e["size"] if k == "size" else e["reference"]["source-name"],
                reverse=direction == "desc",
            )
        if marker is not None:
            names = [e["reference"]["source-name"] for e in entries]
            wanted = marker.get("source-name") if isinstance(marker, dict) else marker
            if wanted not in names:
                raise bad_request(f"Invalid input received: marker not found: {marker}")
            entries = entries[names.index(wanted) + 1 :]
        entries = entries[offset : offset + limit]
        summary = ("reference", "size", "safe_to_manage", "source_reference")
        if not detail:
            entries = [{k: e[k] for k in summary} for e in entries]
        return 200, {"manageable-snapshots": entries}

    def list_manageable_detail(self, ctx: Ctx) -> tuple[int, dict]:
        return self.list_manageable(ctx, detail=True)

    def manage_snapshot(self, ctx: Ctx) -> tuple[int, dict]:
        if not ctx.at_least(3, 8):
            raise not_found("The resource could not be found.")
        return self.os_snapshot_manage(ctx)

    def os_snapshot_manage(self, ctx: Ctx) -> tuple[int, dict]:
        snap = self._envelope(
            self._json_body(ctx),
            "snapshot",
            ("volume_id", "ref", "name", "description", "metadata"),
        )
        for key in ("ref", "volume_id"):
            if key not in snap:
                raise required("snapshot", snap, key)
        if not is_uuid(snap["volume_id"]):
            vid = snap["volume_id"]
            raise invalid_input("volume_id", f"Value: {vid}. {vid!r} is not a 'uuid'")
        ref: Any = snap["ref"]
        if not isinstance(ref, dict | str):
            raise invalid_input("ref", f"Value: {ref!r}. is not of type 'object', 'string'")
        check_nullable_string("name", snap.get("name"))
        check_nullable_string("description", snap.get("description"), printable=True)
        check_metadata("metadata", snap.get("metadata"), CREATE_META_KEY, allow_null=True)
        self.authorize(ctx, "admin", "snapshot_extension:snapshot_manage", ctx.project_id)
        vol = self.get_volume_row(ctx, snap["volume_id"])
        if vol["status"] not in ("available", "in-use"):
            raise bad_request(
                f"Invalid volume: Volume {vol['id']} status must be available or in-use, but "
                f"current status is: {vol['status']}"
            )
        if not vol["host"]:
            raise not_found(f"Service {vol['host']} could not be found.")
        self.check_snapshot_quota(ctx.project_id, vol["size"])
        name = ref.get("source-name") if isinstance(ref, dict) else ref
        backend = self.store.q1(
            "SELECT * FROM backend_snapshots WHERE name = ? AND volume_id = ?",
            (name, vol["id"]),
        )
        now = self.store.now()
        sid = str(uuid.uuid4())
        size = backend["size"] if backend else vol["size"]
        outcome = "available" if backend else "error"
        self.store.x(
            "INSERT INTO snapshots (id, created_at, updated_at, user_id, project_id, volume_id, "
            "status, progress, volume_size, display_name, display_description, use_quota, "
            "metadata, due_at, due_status, provider_location) VALUES (?, ?, NULL, ?, ?, ?, "
            "'creating', '0%', ?, ?, ?, 1, ?, ?, ?, ?)",
            (
                sid,
                now,
                ctx.user_id,
                ctx.project_id,
                vol["id"],
                size,
                snap.get("name"),
                snap.get("description"),
                dumps(snap.get("metadata") or {}),
                now + self.sim.config.create_delay,
                outcome,
                MANAGE_ATTEMPT,
            ),
        )
        if backend:  # the driver renames the logical volume after the new snapshot
            self.store.x("DELETE FROM backend_snapshots WHERE name = ?", (name,))
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        return 202, {"snapshot": self.snapshot_view(row, ctx, "detail")}
