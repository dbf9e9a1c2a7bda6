"""Keystone v3 over HTTP: the routes of identity, answered from keystone.Identity."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from .keystone import kerr
from .responses import json_response


class IdentityApi:
    """Handlers of /identity."""

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
