"""Signing people in with Keystone v3, through keystoneauth1 (the library openstacksdk uses).

The login form's password goes to Keystone once and is forgotten; what the dashboard keeps is the
token, in the server-side session only.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3

from snapshots.cloud import errors
from snapshots.cloud.dto import ProjectData

CINDER_SERVICE_TYPES = ("block-storage", "volumev3")


@dataclass(frozen=True, slots=True)
class UnscopedToken:
    token: str
    user_id: str
    user_name: str
    domain_name: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScopedToken:
    token: str
    user_id: str
    user_name: str
    project_id: str
    project_name: str
    roles: tuple[str, ...]
    expires_at: datetime | None
    cinder_endpoint: str


class Keystone:
    def __init__(
        self,
        auth_url: str,
        *,
        verify: Any = True,
        timeout: float = 15.0,
        region: str | None = None,
        interface: str = "public",
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.verify = verify
        self.timeout = timeout
        self.region = region
        self.interface = interface

    def _session(self, auth: Any = None) -> ksa_session.Session:
        return ksa_session.Session(auth=auth, verify=self.verify, timeout=self.timeout)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ksa_exc.Unauthorized as exc:
            raise errors.BadCredentials() from exc
        except ksa_exc.http.HttpError as exc:
            if exc.http_status and exc.http_status >= 500:
                raise errors.Unavailable("Keystone answered an error") from exc
            raise errors.from_status(exc.http_status, str(exc.message or "")) from exc
        except (ksa_exc.ConnectionError, ksa_exc.DiscoveryFailure) as exc:
            raise errors.Unavailable("Keystone is unreachable") from exc

    def password(self, username: str, password: str, domain: str) -> UnscopedToken:
        auth = v3.Password(
            auth_url=self.auth_url,
            username=username,
            password=password,
            user_domain_name=domain,
            unscoped=True,
        )
        access = self._call(auth.get_access, self._session())
        return UnscopedToken(
            token=access.auth_token,
            user_id=access.user_id,
            user_name=access.username,
            domain_name=access.user_domain_name or domain,
            expires_at=access.expires,
        )

    def projects(self, token: str) -> list[ProjectData]:
        sess = self._session()
        resp = self._call(
            sess.get,
            f"{self.auth_url}/auth/projects",
            headers={"X-Auth-Token": token},
            raise_exc=True,
        )
        return sorted(
            (
                ProjectData(id=p["id"], name=p.get("name", ""), domain_id=p.get("domain_id", ""))
                for p in resp.json().get("projects", [])
                if p.get("enabled", True)
            ),
            key=lambda p: p.name.lower(),
        )

    def scope(self, token: str, project_id: str) -> ScopedToken:
        auth = v3.Token(auth_url=self.auth_url, token=token, project_id=project_id)
        access = self._call(auth.get_access, self._session())
        endpoint = None
        for service_type in CINDER_SERVICE_TYPES:
            try:
                endpoint = access.service_catalog.url_for(
                    service_type=service_type,
                    interface=self.interface,
                    region_name=self.region,
                )
            except ksa_exc.EndpointNotFound:
                continue
            if endpoint:
                break
        if not endpoint:
            raise errors.Unavailable("The project's catalog has no block-storage endpoint")
        return ScopedToken(
            token=access.auth_token,
            user_id=access.user_id,
            user_name=access.username,
            project_id=access.project_id,
            project_name=access.project_name or "",
            roles=tuple(sorted(access.role_names or ())),
            expires_at=access.expires,
            cinder_endpoint=endpoint,
        )

    def revoke(self, token: str) -> None:
        """Revoke a token. Best effort: signing out must work when Keystone is down."""
        with contextlib.suppress(ksa_exc.ConnectionError, ksa_exc.ClientException):
            self._session().delete(
                f"{self.auth_url}/auth/tokens",
                headers={"X-Auth-Token": token, "X-Subject-Token": token},
                raise_exc=False,
            )
