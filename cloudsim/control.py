"""The control API under /_sim: reset, clock, faults, statistics and seeding by tests."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from .errors import SimError, bad_request
from .microversions import Ctx
from .responses import json_response
from .seed import HOST
from .store import dumps, parse_iso, stable_id


class Control:
    """Handlers of /_sim."""

    def reset(self) -> None:
        with self.store.lock:
            self.store.restore_template()
            self.reset_faults()
        with self.stats_lock:
            self.stats.clear()
            self.seconds.clear()
            self.recent.clear()

    def sim_create_volume(self, body: dict) -> dict:
        store = self.store
        proj = store.project_by_ref(str(body.get("project", "")))
        if proj is None:
            raise bad_request(f"unknown project {body.get('project')!r}")
        now = store.now()
        vid = body.get("id") or str(uuid.uuid4())
        status = body.get("status", "available")
        user = store.q1(
            "SELECT id FROM users WHERE id = ? OR name = ?",
            (body.get("user", ""), body.get("user", "")),
        )
        created = parse_iso(body["created_at"]) if body.get("created_at") else now
        store.x(
            "INSERT INTO volumes (id, project_id, user_id, display_name, display_description, "
            "size, status, availability_zone, volume_type, bootable, host, attached_to, "
            "created_at, updated_at, metadata, migration_status) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                vid,
                proj["id"],
                user["id"] if user else None,
                body.get("name"),
                body.get("description"),
                int(body.get("size", 1)),
                status,
                body.get("availability_zone", "nova"),
                body.get("volume_type", "__DEFAULT__"),
                1 if body.get("bootable") else 0,
                body.get("host", None if status == "error" else HOST),
                None,
                created,
                created,
                dumps(body.get("metadata") or {}),
                body.get("migration_status"),
            ),
        )
        if status == "in-use":  # a shortcut for seeding tests; the attachments API is the real path
            server = body.get("server_id") or str(uuid.uuid4())
            store.attach(vid, server, created, aid=stable_id("attachment", vid))
        return self._admin_view("volume", vid)

    def sim_create_snapshot(self, body: dict) -> dict:
        store = self.store
        vol = None
        if body.get("volume_id"):
            vol = store.q1("SELECT * FROM volumes WHERE id = ?", (body["volume_id"],))
            if vol is None:
                raise bad_request(f"unknown volume {body['volume_id']!r}")
        proj = store.project_by_ref(str(body.get("project", ""))) if body.get("project") else None
        if proj is None and vol is not None:
            proj = store.q1("SELECT * FROM projects WHERE id = ?", (vol["project_id"],))
        if proj is None:
            raise bad_request(f"unknown project {body.get('project')!r}")
        if vol is None:
            vol = store.q1(
                "SELECT * FROM volumes WHERE project_id = ? ORDER BY created_at LIMIT 1",
                (proj["id"],),
            )
            if vol is None:
                raise bad_request("the project has no volume; pass volume_id")
        now = store.now()
        created = parse_iso(body["created_at"]) if body.get("created_at") else now
        status = body.get("status", "available")
        due_at = due_status = None
        if body.get("complete_in") is not None:
            due_at = now + float(body["complete_in"])
            due_status = {"creating": "available", "deleting": "gone", "unmanaging": "gone"}.get(
                status
            )
            if due_status is None:
                due_at = None
        user = store.q1(
            "SELECT id FROM users WHERE id = ? OR name = ?",
            (body.get("user", ""), body.get("user", "")),
        )
        progress = body.get("progress") or {"available": "100%", "creating": "0%"}.get(
            status, "100%" if status != "error" else "0%"
        )
        sid = body.get("id") or str(uuid.uuid4())
        store.x(
            "INSERT INTO snapshots (id, created_at, updated_at, user_id, project_id, volume_id, "
            "status, progress, volume_size, display_name, display_description, use_quota, "
            "metadata, group_snapshot_id, due_at, due_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                created,
                body.get("updated_at") and parse_iso(body["updated_at"]),
                user["id"] if user else vol["user_id"],
                proj["id"],
                vol["id"],
                status,
                progress,
                int(body.get("size", vol["size"])),
                body.get("name"),
                body.get("description"),
                0 if body.get("consumes_quota") is False else 1,
                dumps(body.get("metadata") or {}),
                body.get("group_snapshot_id"),
                due_at,
                due_status,
            ),
        )
        return self._admin_view("snapshot", sid)

    def _admin_ctx(self, req: Request) -> Ctx:
        return Ctx(
            req=req,
            user_id="",
            project_id="",
            roles=["admin", "member", "reader"],
            is_admin=True,
            version=(3, 71),
            base=req.host_url.rstrip("/"),
        )

    def _admin_view(self, kind: str, rid: str) -> dict:
        ctx = self._admin_ctx(Request.from_values())
        if kind == "volume":
            row = self.store.q1("SELECT * FROM volumes WHERE id = ?", (rid,))
            return self.cinder.volume_view(row, ctx, "detail")
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (rid,))
        return self.cinder.snapshot_view(row, ctx, "show")

    def set_quota(self, body: dict) -> dict:
        proj = self.store.project_by_ref(str(body.get("project", "")))
        if proj is None:
            raise bad_request(f"unknown project {body.get('project')!r}")
        for key, col in (
            ("snapshots", "snapshot_quota"),
            ("gigabytes", "gigabytes_quota"),
            ("volumes", "volume_quota"),
        ):
            if key in body:
                self.store.x(
                    f"UPDATE projects SET {col} = ? WHERE id = ?", (int(body[key]), proj["id"])
                )
        row = self.store.q1("SELECT * FROM projects WHERE id = ?", (proj["id"],))
        return {
            "project": row["name"],
            "snapshots": row["snapshot_quota"],
            "gigabytes": row["gigabytes_quota"],
            "volumes": row["volume_quota"],
        }

    def control(self, req: Request) -> Response:
        path = req.path.rstrip("/")
        method = req.method
        body: Any = {}
        if method == "POST" and req.get_data():
            try:
                body = json.loads(req.get_data(as_text=True))
            except ValueError:
                return json_response(400, {"error": "body is not JSON"})
        try:
            if path == "/_sim/stats" and method == "GET":
                with self.stats_lock:
                    routes = dict(sorted(self.stats.items()))
                    seconds = {k: round(v, 6) for k, v in sorted(self.seconds.items())}
                return json_response(
                    200,
                    {
                        "total": sum(routes.values()),
                        "by_route": routes,
                        "seconds": round(sum(seconds.values()), 6),
                        "seconds_by_route": seconds,
                    },
                )
            if path == "/_sim/stats/reset" and method == "POST":
                with self.stats_lock:
                    self.stats.clear()
                    self.seconds.clear()
                    self.recent.clear()
                return json_response(200, {"total": 0, "by_route": {}})
            if path == "/_sim/requests" and method == "GET":
                with self.stats_lock:
                    return json_response(200, {"requests": list(self.recent)})
            if path == "/_sim/reset" and method == "POST":
                self.reset()
                return json_response(200, {"reset": True})
            if path == "/_sim/faults" and method == "GET":
                return json_response(200, self.faults)
            if path == "/_sim/faults" and method == "POST":
                with self.store.lock:
                    self.set_faults(body)
                return json_response(200, self.faults)
            if path == "/_sim/faults/clear" and method == "POST":
                with self.store.lock:
                    self.reset_faults()
                return json_response(200, self.faults)
            if path == "/_sim/clock" and method == "POST":
                self.store.advance(float(body.get("advance", 0)))
                with self.store.lock:
                    self.store.materialise()
                return json_response(200, {"offset": self.store.offset, "now": self.store.now()})
            if path == "/_sim/clock" and method == "GET":
                return json_response(200, {"offset": self.store.offset, "now": self.store.now()})
            if path == "/_sim/info" and method == "GET":
                return json_response(200, self.store.info())
            if path == "/_sim/volumes" and method == "POST":
                with self.store.lock:
                    self.store.materialise()
                    return json_response(201, self.sim_create_volume(body))
            if path == "/_sim/snapshots" and method == "POST":
                with self.store.lock:
                    self.store.materialise()
                    return json_response(201, self.sim_create_snapshot(body))
            if path == "/_sim/quota" and method == "POST":
                with self.store.lock:
                    return json_response(200, self.set_quota(body))
            if path == "/_sim/token" and method == "POST":
                with self.store.lock:
                    tok = self.identity.lookup(body.get("token"))
                    if tok is None:
                        return json_response(404, {"error": "no such token"})
                    if "expires_in" in body:
                        tok.expires_at = self.store.now() + float(body["expires_in"])
                    return json_response(200, {"expires_at": tok.expires_at})
        except SimError as exc:
            return json_response(exc.status, {"error": exc.message})
        except (KeyError, TypeError, ValueError) as exc:
            return json_response(400, {"error": f"bad request: {exc}"})
        return json_response(404, {"error": f"no control endpoint {method} {req.path}"})
