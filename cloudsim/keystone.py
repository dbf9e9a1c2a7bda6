"""Keystone v3: version documents, tokens, project listings."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from .errors import SimError
from .store import Store, iso_z, stable_id


def kerr(status: int, message: str) -> SimError:
    return SimError(status, message, style="keystone")


@dataclass
class Token:
    id: str
    user_id: str
    project_id: str | None
    methods: list[str]
    issued_at: float
    expires_at: float
    audit_id: str
    revoked: bool = False
    extras: dict = field(default_factory=dict)


class Identity:
    def __init__(self, store: Store, token_ttl: float) -> None:
        self.store = store
        self.token_ttl = token_ttl
        self.tokens: dict[str, Token] = {}
        self.lock = threading.Lock()

    # -- documents ---------------------------------------------------------------------------
    @staticmethod
    def version_entry(base: str) -> dict:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    def versions_doc(self, base: str) -> dict:
        return {"versions": {"values": [self.version_entry(base)]}}

    def version_doc(self, base: str) -> dict:
        return {"version": self.version_entry(base)}

    # -- tokens ------------------------------------------------------------------------------
    def lookup(self, token_id: str | None) -> Token | None:
        """The token if it is valid now, else None."""
        if not token_id:
            return None
        tok = self.tokens.get(token_id)
        if tok is None or tok.revoked or tok.expires_at <= self.store.now():
            return None
        return tok

    def _find_user(self, user: dict) -> dict | None:
        st = self.store
        if not isinstance(user, dict):
            return None
        if user.get("id"):
            row = st.q1("SELECT * FROM users WHERE id = ?", (user["id"],))
        elif user.get("name"):
            domain = user.get("domain") or {}
            if not isinstance(domain, dict):
                return None
            if domain.get("id"):
                row = st.q1(
                    "SELECT * FROM users WHERE name = ? AND domain_id = ?",
                    (user["name"], domain["id"]),
                )
            elif domain.get("name"):
                row = st.q1(
                    "SELECT u.* FROM users u JOIN domains d ON d.id = u.domain_id "
                    "WHERE u.name = ? AND d.name = ?",
                    (user["name"], domain["name"]),
                )
            else:
                raise kerr(
                    400,
                    "Expecting to find domain in user. The server could not comply "
                    "with the request since it is either malformed or otherwise "
                    "incorrect. The client is assumed to be in error.",
                )
        else:
            return None
        return dict(row) if row else None

    def issue(self, body: dict) -> tuple[Token, dict]:
        if not isinstance(body, dict) or not isinstance(body.get("auth"), dict):
            raise kerr(400, "Expecting to find auth in request body.")
        auth = body["auth"]
        identity = auth.get("identity")
        if not isinstance(identity, dict) or not isinstance(identity.get("methods"), list):
            raise kerr(400, "Expecting to find identity in auth.")
        methods = identity["methods"]
        now = self.store.now()
        expires = now + self.token_ttl
        user_id = None
        if "password" in methods:
            pw = identity.get("password") or {}
            user = self._find_user(pw.get("user") if isinstance(pw, dict) else None)
            given = (pw.get("user") or {}).get("password") if isinstance(pw, dict) else None
            if user is None or not isinstance(given, str) or given != user["password"]:
                raise kerr(401, "The request you have made requires authentication.")
            user_id = user["id"]
        elif "token" in methods:
            tok_ref = identity.get("token") or {}
            old = self.lookup(tok_ref.get("id") if isinstance(tok_ref, dict) else None)
            if old is None:
                raise kerr(401, "The request you have made requires authentication.")
            user_id = old.user_id
            expires = old.expires_at
        else:
            raise kerr(401, "The request you have made requires authentication.")

        project_id = None
        scope = auth.get("scope")
        if scope == "unscoped" or scope is None:
            pass
        elif isinstance(scope, dict) and isinstance(scope.get("project"), dict):
            proj = scope["project"]
            row = None
            if proj.get("id"):
                row = self.store.q1("SELECT * FROM projects WHERE id = ?", (proj["id"],))
            elif proj.get("name"):
                dom = proj.get("domain") or {}
                if dom.get("id"):
                    row = self.store.q1(
                        "SELECT * FROM projects WHERE name = ? AND domain_id = ?",
                        (proj["name"], dom["id"]),
                    )
                elif dom.get("name"):
                    row = self.store.q1(
                        "SELECT p.* FROM projects p JOIN domains d ON d.id = p.domain_id "
                        "WHERE p.name = ? AND d.name = ?",
                        (proj["name"], dom["name"]),
                    )
                else:
                    raise kerr(400, "Expecting to find domain in project.")
            if row is None:
                raise kerr(401, "The request you have made requires authentication.")
            if not self.store.roles_for(user_id, row["id"]):
                raise kerr(401, f"User {user_id} has no access to project {row['id']}")
            project_id = row["id"]
        else:
            raise kerr(401, "The request you have made requires authentication.")

        tok = Token(
            id="gAAAAA" + secrets.token_urlsafe(96),
            user_id=user_id,
            project_id=project_id,
            methods=[m for m in methods if m in ("password", "token")][:1] or ["password"],
            issued_at=now,
            expires_at=expires,
            audit_id=secrets.token_urlsafe(16)[:22],
        )
        with self.lock:
            self.tokens[tok.id] = tok
        return tok, {}

    def revoke(self, token_id: str) -> bool:
        tok = self.lookup(token_id)
        if tok is None:
            return False
        tok.revoked = True
        return True

    # -- bodies ------------------------------------------------------------------------------
    def project_ref(self, project_id: str) -> dict:
        row = self.store.q1("SELECT * FROM projects WHERE id = ?", (project_id,))
        dom = self.store.q1("SELECT * FROM domains WHERE id = ?", (row["domain_id"],))
        return {
            "id": row["id"],
            "name": row["name"],
            "domain": {"id": dom["id"], "name": dom["name"]},
        }

    def project_full(self, row, base: str) -> dict:
        return {
            "id": row["id"],
            "name": row["name"],
            "domain_id": row["domain_id"],
            "description": row["description"],
            "enabled": True,
            "is_domain": False,
            "parent_id": row["domain_id"],
            "tags": [],
            "options": {},
            "links": {"self": f"{base}/identity/v3/projects/{row['id']}"},
        }

    def token_body(self, tok: Token, base: str, nocatalog: bool = False) -> dict:
        user = self.store.q1("SELECT * FROM users WHERE id = ?", (tok.user_id,))
        dom = self.store.q1("SELECT * FROM domains WHERE id = ?", (user["domain_id"],))
        body: dict = {
            "methods": tok.methods,
            "user": {
                "id": user["id"],
                "name": user["name"],
                "domain": {"id": dom["id"], "name": dom["name"]},
                "password_expires_at": None,
            },
            "audit_ids": [tok.audit_id],
            "expires_at": iso_z(tok.expires_at),
            "issued_at": iso_z(tok.issued_at),
        }
        if tok.project_id:
            roles = self.store.roles_for(tok.user_id, tok.project_id)
            body["project"] = self.project_ref(tok.project_id)
            body["is_domain"] = False
            body["roles"] = [{"id": stable_id("role", r), "name": r} for r in roles]
            if not nocatalog:
                body["catalog"] = self.catalog(base, tok.project_id)
        else:
            body["roles"] = []
        return {"token": body}

    @staticmethod
    def catalog(base: str, project_id: str) -> list[dict]:
        def service(stype: str, name: str, url: str) -> dict:
            return {
                "id": stable_id("service", stype),
                "type": stype,
                "name": name,
                "endpoints": [
                    {
                        "id": stable_id("endpoint", stype),
                        "interface": "public",
                        "region": "RegionOne",
                        "region_id": "RegionOne",
                        "url": url,
                    }
                ],
            }

        vol = f"{base}/volume/v3/{project_id}"
        return [
            service("block-storage", "cinder", vol),
            service("volumev3", "cinderv3", vol),
            service("identity", "keystone", f"{base}/identity/v3"),
        ]

    def user_projects(self, user_id: str, base: str) -> list[dict]:
        rows = self.store.q(
            "SELECT DISTINCT p.* FROM projects p JOIN assignments a ON a.project_id = p.id "
            "WHERE a.user_id = ? ORDER BY p.name",
            (user_id,),
        )
        return [self.project_full(r, base) for r in rows]

    def is_admin(self, tok: Token) -> bool:
        return bool(tok.project_id) and "admin" in self.store.roles_for(tok.user_id, tok.project_id)
