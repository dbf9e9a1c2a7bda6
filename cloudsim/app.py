"""The WSGI application: routing, authentication, faults, statistics and the control API."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

from .cinder import Cinder, Ctx, parse_microversion, versions_doc, vstr
from .errors import SimError, bad_request
from .keystone import Identity, kerr
from .seed import HOST, seed
from .store import Store, dumps, parse_iso, stable_id

STATUS_TEXT = {300: "Multiple Choices"}


class HexConverter(BaseConverter):
    regex = "[0-9a-fA-F-]+"


@dataclass
class Config:
    seed: str = "empty"
    seed_snapshots: int = 0
    state: str | None = None
    password: str = "secret"
    create_delay: float = 3.0
    delete_delay: float = 2.0
    token_ttl: float = 3600.0
    latency_ms: int = 0
    snapshot_quota: int = 100000
    like_filters: bool = False
    gigabytes_quota: int = -1
    notify_url: str = ""  # publish Cinder's notifications to this bus (cloudsim/notify.py)


FAULT_DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "error_status": 500,
    "create_error_rate": 0.0,
    "delete_error_rate": 0.0,
    "stuck": [],
    "keystone_down": False,
    "cinder_down": False,
}

# A second Cinder API on the same state with `auth_strategy = noauth`, like a real cinder-api
# run without Keystone: the token is `user:project`, every caller is admin, and a request
# without a token gets an empty 204 (discovery included).
NOAUTH_PREFIX = "/volume-noauth"

CINDER_ROUTES = [
    ("/snapshots", "list_snapshots", ["GET"]),
    ("/snapshots", "create_snapshot", ["POST"]),
    ("/snapshots/detail", "list_snapshots_detail", ["GET"]),
    ("/snapshots/<snapshot_id>", "show_snapshot", ["GET"]),
    ("/snapshots/<snapshot_id>", "update_snapshot", ["PUT"]),
    ("/snapshots/<snapshot_id>", "delete_snapshot", ["DELETE"]),
    ("/snapshots/<snapshot_id>/metadata", "get_metadata", ["GET"]),
    ("/snapshots/<snapshot_id>/metadata", "merge_metadata", ["POST"]),
    ("/snapshots/<snapshot_id>/metadata", "replace_metadata", ["PUT"]),
    ("/snapshots/<snapshot_id>/metadata/<path:key>", "get_metadata_item", ["GET"]),
    ("/snapshots/<snapshot_id>/metadata/<path:key>", "set_metadata_item", ["PUT"]),
    ("/snapshots/<snapshot_id>/metadata/<path:key>", "delete_metadata_item", ["DELETE"]),
    ("/snapshots/<snapshot_id>/action", "snapshot_action", ["POST"]),
    ("/volumes", "list_volumes", ["GET"]),
    ("/volumes", "create_volume", ["POST"]),
    ("/volumes/detail", "list_volumes_detail", ["GET"]),
    ("/volumes/<volume_id>", "show_volume", ["GET"]),
    ("/volumes/<volume_id>", "delete_volume", ["DELETE"]),
    ("/volumes/<volume_id>/action", "volume_action", ["POST"]),
    ("/limits", "limits", ["GET"]),
    ("/resource_filters", "resource_filters", ["GET"]),
]


def build_map() -> Map:
    rules = [
        Rule("/identity", endpoint="ks_versions", methods=["GET"]),
        Rule("/identity/", endpoint="ks_versions", methods=["GET"]),
        Rule("/identity/v3", endpoint="ks_version", methods=["GET"]),
        Rule("/identity/v3/", endpoint="ks_version", methods=["GET"]),
        Rule("/identity/v3/auth/tokens", endpoint="ks_issue", methods=["POST"]),
        Rule("/identity/v3/auth/tokens", endpoint="ks_validate", methods=["GET", "HEAD"]),
        Rule("/identity/v3/auth/tokens", endpoint="ks_revoke", methods=["DELETE"]),
        Rule("/identity/v3/auth/projects", endpoint="ks_auth_projects", methods=["GET"]),
        Rule("/identity/v3/users/<user_id>/projects", endpoint="ks_user_projects", methods=["GET"]),
        Rule("/identity/v3/projects", endpoint="ks_projects", methods=["GET"]),
        Rule("/identity/v3/projects/<project_id>", endpoint="ks_project", methods=["GET"]),
        Rule("/volume", endpoint="cv_versions", methods=["GET"]),
        Rule("/volume/", endpoint="cv_versions", methods=["GET"]),
        Rule("/volume/v3", endpoint="cv_version", methods=["GET"]),
        Rule("/volume/v3/", endpoint="cv_version", methods=["GET"]),
        Rule(NOAUTH_PREFIX + "/v3", endpoint="cv_version", methods=["GET"]),
        Rule(NOAUTH_PREFIX + "/v3/", endpoint="cv_version", methods=["GET"]),
    ]
    for prefix in ("/volume", NOAUTH_PREFIX):
        for suffix, name, methods in CINDER_ROUTES:
            rules.append(
                Rule(f"{prefix}/v3/<hex:project_id>{suffix}", endpoint=name, methods=methods)
            )
            rules.append(Rule(f"{prefix}/v3{suffix}", endpoint=name, methods=methods))
    return Map(rules, converters={"hex": HexConverter}, strict_slashes=False)


def template_of(rule: Rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    data = b"" if body is None else json.dumps(body).encode()
    resp = Response(data, status=status, headers=headers or {})
    if body is not None:
        resp.content_type = "application/json"
    else:
        resp.headers.pop("Content-Type", None)
        resp.headers["Content-Length"] = "0"
    return resp


class Simulator:
    """One simulated cloud: state, identity, Cinder, faults and statistics."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store(config.state or ":memory:")
        started = time.perf_counter()
        if self.store.is_empty():
            seed(
                self.store,
                config.seed,
                config.seed_snapshots,
                config.password,
                config.snapshot_quota,
                config.gigabytes_quota,
            )
        self.seed_seconds = time.perf_counter() - started
        self.store.save_template()
        self.identity = Identity(self.store, config.token_ttl)
        self.cinder = Cinder(self)
        self.notifier = None
        if config.notify_url:
            from cloudsim.notify import Notifier

            self.notifier = Notifier(config.notify_url, self.store)
            self.store.on_transition = self.notifier.transition
        self.map = build_map()
        self.stats: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # time spent answering, by route
        self.recent: deque[dict] = deque(maxlen=500)
        self.stats_lock = threading.Lock()
        self.faults: dict[str, Any] = {}
        self.rng = random.Random("cloudsim-faults")
        self.reset_faults()

    # -- faults ------------------------------------------------------------------------------
    def reset_faults(self) -> None:
        self.faults = json.loads(json.dumps(FAULT_DEFAULTS))
        self.faults["latency_ms"] = self.config.latency_ms
        self.store.stuck = set()
        self.rng = random.Random("cloudsim-faults")

    def set_faults(self, body: dict) -> None:
        if not isinstance(body, dict):
            raise bad_request("faults must be a JSON object")
        unknown = sorted(set(body) - set(FAULT_DEFAULTS))
        if unknown:
            raise bad_request(f"unknown fault(s): {', '.join(unknown)}")
        new = dict(self.faults)
        for key, value in body.items():
            if key == "stuck":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise bad_request("stuck must be a list of statuses")
                new[key] = sorted(set(value))
            elif key in ("keystone_down", "cinder_down"):
                new[key] = bool(value)
            elif key in ("latency_ms", "error_status"):
                new[key] = int(value)
            else:
                rate = float(value)
                if not 0 <= rate <= 1:
                    raise bad_request(f"{key} must be between 0 and 1")
                new[key] = rate
        if new["error_status"] not in (500, 502, 503, 504):
            raise bad_request("error_status must be 500, 502, 503 or 504")
        self.faults = new
        self.store.stuck = set(new["stuck"])

    def chance(self, key: str) -> bool:
        rate = float(self.faults.get(key) or 0.0)
        return rate > 0 and self.rng.random() < rate

    # -- control API -------------------------------------------------------------------------
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
                body.get("server_id") or (str(uuid.uuid4()) if status == "in-use" else None),
                created,
                created,
                dumps(body.get("metadata") or {}),
                body.get("migration_status"),
            ),
        )
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

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        req = Request(environ)
        if req.path.startswith("/_sim"):
            return self.control(req)(environ, start_response)
        resp = self.dispatch(req)
        return resp(environ, start_response)

    def dispatch(self, req: Request) -> Response:
        adapter = self.map.bind_to_environ(req.environ)
        service = "volume" if req.path.startswith("/volume") else "identity"
        noauth = req.path.startswith(NOAUTH_PREFIX + "/")
        if noauth and "X-Auth-Token" not in req.headers:
            return self.noauth_hello(req)
        try:
            rule, values = adapter.match(return_rule=True)
        except MethodNotAllowed:
            err = SimError(
                405,
                "The method is not allowed for the requested URL.",
                style="keystone" if service == "identity" else "cinder",
            )
            return json_response(err.status, err.body())
        except NotFound:
            err = SimError(
                404,
                "The resource could not be found.",
                style="keystone" if service == "identity" else "cinder",
            )
            return json_response(err.status, err.body())
        except HTTPException as exc:
            return exc.get_response(req.environ)
        route = f"{req.method} {template_of(rule)}"
        with self.stats_lock:
            self.stats[route] += 1
        faults = self.faults
        if faults.get("latency_ms"):
            time.sleep(faults["latency_ms"] / 1000.0)
        started = time.perf_counter()
        request_id = f"req-{uuid.uuid4()}"
        endpoint = rule.endpoint
        try:
            if service == "identity":
                if faults.get("keystone_down"):
                    raise SimError(503, "Service Unavailable", style="keystone")
                resp = self.identity_call(req, endpoint, values)
            else:
                if faults.get("cinder_down"):
                    raise SimError(503, "Service Unavailable", key="serviceUnavailable")
                resp = self.cinder_call(req, endpoint, values, noauth=noauth)
        except SimError as exc:
            resp = json_response(exc.status, exc.body(), exc.headers)
        resp.headers["X-OpenStack-Request-Id"] = request_id
        with self.stats_lock:
            self.seconds[route] += time.perf_counter() - started
            self.recent.append(
                {
                    "method": req.method,
                    "path": req.full_path.rstrip("?"),
                    "route": route,
                    "microversion": req.headers.get("OpenStack-API-Version"),
                    "status": resp.status_code,
                    "request_id": request_id,
                }
            )
        if service == "volume":
            resp.headers["X-Compute-Request-Id"] = request_id
        return resp

    # -- identity ----------------------------------------------------------------------------
    def identity_call(self, req: Request, endpoint: str, values: dict) -> Response:
        base = req.host_url.rstrip("/")
        ident = self.identity
        if endpoint == "ks_versions":
            return json_response(300, ident.versions_doc(base))
        if endpoint == "ks_version":
            return json_response(200, ident.version_doc(base))
        with self.store.lock:
            if endpoint == "ks_issue":
                try:
                    body = json.loads(req.get_data(as_text=True) or "null")
                except ValueError:
                    raise kerr(400, "Malformed request body") from None
                tok, _ = ident.issue(body)
                resp = json_response(
                    201, ident.token_body(tok, base, nocatalog="nocatalog" in req.args)
                )
                resp.headers["X-Subject-Token"] = tok.id
                return resp
            caller = ident.lookup(req.headers.get("X-Auth-Token"))
            if caller is None:
                raise kerr(401, "The request you have made requires authentication.")
            if endpoint in ("ks_validate", "ks_revoke"):
                subject_id = req.headers.get("X-Subject-Token")
                subject = ident.lookup(subject_id)
                if subject is None:
                    raise kerr(404, f"Could not find token: {subject_id}")
                if endpoint == "ks_revoke":
                    ident.revoke(subject.id)
                    return json_response(204, None)
                if req.method == "HEAD":
                    return json_response(200, None)
                resp = json_response(
                    200, ident.token_body(subject, base, nocatalog="nocatalog" in req.args)
                )
                resp.headers["X-Subject-Token"] = subject.id
                return resp
            if endpoint == "ks_auth_projects":
                projects = ident.user_projects(caller.user_id, base)
                return json_response(
                    200,
                    {
                        "projects": projects,
                        "links": {
                            "self": f"{base}/identity/v3/auth/projects",
                            "previous": None,
                            "next": None,
                        },
                    },
                )
            if endpoint == "ks_user_projects":
                if values["user_id"] != caller.user_id and not ident.is_admin(caller):
                    raise kerr(
                        403,
                        "You are not authorized to perform the requested action: "
                        "identity:list_user_projects.",
                    )
                projects = ident.user_projects(values["user_id"], base)
                return json_response(
                    200,
                    {
                        "projects": projects,
                        "links": {"self": f"{base}{req.path}", "previous": None, "next": None},
                    },
                )
            if endpoint in ("ks_projects", "ks_project"):
                if not ident.is_admin(caller):
                    raise kerr(
                        403,
                        "You are not authorized to perform the requested action: "
                        "identity:list_projects.",
                    )
                if endpoint == "ks_project":
                    row = self.store.q1(
                        "SELECT * FROM projects WHERE id = ?", (values["project_id"],)
                    )
                    if row is None:
                        raise kerr(404, f"Could not find project: {values['project_id']}.")
                    return json_response(200, {"project": ident.project_full(row, base)})
                sql = "SELECT * FROM projects WHERE 1"
                args: list = []
                for key in ("name", "domain_id"):
                    if key in req.args:
                        sql += f" AND {key} = ?"
                        args.append(req.args[key])
                rows = self.store.q(sql + " ORDER BY name", args)
                return json_response(
                    200,
                    {
                        "projects": [ident.project_full(r, base) for r in rows],
                        "links": {
                            "self": f"{base}/identity/v3/projects",
                            "previous": None,
                            "next": None,
                        },
                    },
                )
        raise kerr(404, "The resource could not be found.")

    # -- cinder ------------------------------------------------------------------------------
    def noauth_hello(self, req: Request) -> Response:
        """What a noauth cinder-api answers a request without a token: an empty 204 that
        offers the token `admin:admin` (keystoneauth's version discovery gets this too)."""
        resp = json_response(204, None)
        resp.headers["X-Auth-Token"] = "admin:admin"
        resp.headers["X-Server-Management-Url"] = req.base_url.rstrip("/")
        resp.headers["X-OpenStack-Request-Id"] = f"req-{uuid.uuid4()}"
        return resp

    def cinder_call(
        self, req: Request, endpoint: str, values: dict, *, noauth: bool = False
    ) -> Response:
        base = req.host_url.rstrip("/")
        if endpoint == "cv_versions":
            return json_response(300, versions_doc(base))
        if endpoint == "cv_version":
            return json_response(200, versions_doc(base, NOAUTH_PREFIX if noauth else "/volume"))
        with self.store.lock:
            if noauth:  # cinder's NoAuthMiddleware: `user:project`, is_admin=True
                user_id, _, project_id = req.headers["X-Auth-Token"].partition(":")
                project_id = project_id or user_id
            else:
                tok = self.identity.lookup(req.headers.get("X-Auth-Token"))
                if tok is None or tok.project_id is None:
                    err = SimError(
                        401, "The request you have made requires authentication.", style="keystone"
                    )
                    err.headers["WWW-Authenticate"] = f'Keystone uri="{base}/identity"'
                    raise err
                user_id, project_id = tok.user_id, tok.project_id
            url_project = values.pop("project_id", None)
            if url_project is not None and url_project != project_id:
                raise bad_request("Malformed request url")
            version = parse_microversion(req.headers.get("OpenStack-API-Version"))
            vheaders = {
                "OpenStack-API-Version": f"volume {vstr(version)}",
                "Vary": "OpenStack-API-Version",
            }
            try:
                if self.chance("error_rate"):
                    status = int(self.faults.get("error_status") or 500)
                    raise SimError(
                        status,
                        "The server has either erred or is incapable of performing the "
                        "requested operation."
                        if status == 500
                        else "Service Unavailable",
                    )
                self.store.materialise()
                roles = [] if noauth else self.store.roles_for(user_id, project_id)
                ctx = Ctx(
                    req=req,
                    user_id=user_id,
                    project_id=project_id,
                    roles=roles,
                    is_admin=noauth or "admin" in roles,
                    version=version,
                    base=base,
                )
                status, body = self.call_handler(ctx, endpoint, values)
            except SimError as exc:
                exc.headers.update(vheaders)
                raise
            return json_response(status, body, vheaders)

    def call_handler(self, ctx: Ctx, endpoint: str, values: dict) -> tuple[int, Any]:
        c = self.cinder
        if endpoint == "list_snapshots":
            return c.list_snapshots(ctx, detail=False)
        if endpoint == "list_snapshots_detail":
            return c.list_snapshots(ctx, detail=True)
        if endpoint == "list_volumes":
            return c.list_volumes(ctx, detail=False)
        if endpoint == "list_volumes_detail":
            return c.list_volumes(ctx, detail=True)
        handler = getattr(c, endpoint)
        return handler(ctx, *values.values())


def project_id_for(name: str) -> str:
    return stable_id("project", name)
