"""The WSGI application: routing, authentication, statistics; handlers live in their own modules."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

from .cinder import Cinder
from .control import Control
from .errors import SimError, bad_request
from .faults import Faults
from .identity_api import IdentityApi
from .keystone import Identity
from .microversions import Ctx, parse_microversion, versions_doc, vstr
from .responses import json_response, template_of
from .seed import seed
from .store import Store, stable_id


class HexConverter(BaseConverter):
    regex = "[0-9a-fA-F-]+"


@dataclass
class Config:
    seed: str = "empty"
    seed_snapshots: int = 0
    seed_projects: int = 0  # the --seed-snapshots go to this many projects of their own
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


# A second Cinder API on the same state with `auth_strategy = noauth`, like a real cinder-api
# run without Keystone: the token is `user:project`, every caller is admin, and a request
# without a token gets an empty 204 (discovery included).
NOAUTH_PREFIX = "/volume-noauth"

# what a request no route takes is told, by its status
UNROUTED = {
    404: "The resource could not be found.",
    405: "The method is not allowed for the requested URL.",
}

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
    ("/attachments", "list_attachments", ["GET"]),
    ("/attachments", "create_attachment", ["POST"]),
    ("/attachments/detail", "list_attachments_detail", ["GET"]),
    ("/attachments/<attachment_id>", "show_attachment", ["GET"]),
    ("/attachments/<attachment_id>", "delete_attachment", ["DELETE"]),
    ("/attachments/<attachment_id>/action", "attachment_action", ["POST"]),
    ("/messages", "list_messages", ["GET"]),
    ("/messages/<message_id>", "show_message", ["GET"]),
    ("/messages/<message_id>", "delete_message", ["DELETE"]),
    ("/os-quota-sets/<target_project>", "show_quota_set", ["GET"]),
    ("/manageable_snapshots", "list_manageable", ["GET"]),
    ("/manageable_snapshots", "manage_snapshot", ["POST"]),
    ("/manageable_snapshots/detail", "list_manageable_detail", ["GET"]),
    ("/os-snapshot-manage", "os_snapshot_manage", ["POST"]),
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


class Simulator(Faults, Control, IdentityApi):
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
                config.seed_projects,
            )
        self.seed_seconds = time.perf_counter() - started
        self.store.save_template()
        self.identity = Identity(self.store, config.token_ttl)
        self.cinder = Cinder(self)
        self.notifier = None
        if config.notify_url:
            from cloudsim.notify import Notifier

            self.notifier = Notifier(config.notify_url, self.store)
            self.store.on_notify = self.notifier.transition
        self.map = build_map()
        self.stats: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # time spent answering, by route
        self.recent: deque[dict] = deque(maxlen=500)
        self.stats_lock = threading.Lock()
        self.faults: dict[str, Any] = {}
        self.rng = random.Random("cloudsim-faults")
        self.reset_faults()

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
        except (MethodNotAllowed, NotFound) as exc:
            err = SimError(
                exc.code,
                UNROUTED[exc.code],
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
        if faults.get("answer_delay_ms") and service != "identity" and req.method != "GET":
            time.sleep(faults["answer_delay_ms"] / 1000.0)
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
        if endpoint in ("cv_versions", "cv_version"):
            # cinder's versions controller is versioned too: the same two headers as every call
            version = parse_microversion(req.headers.get("OpenStack-API-Version"))
            vheaders = {
                "OpenStack-API-Version": f"volume {vstr(version)}",
                "Vary": "OpenStack-API-Version",
            }
            if endpoint == "cv_versions":
                return json_response(300, versions_doc(base), vheaders)
            prefix = NOAUTH_PREFIX if noauth else "/volume"
            return json_response(200, versions_doc(base, prefix), vheaders)
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
