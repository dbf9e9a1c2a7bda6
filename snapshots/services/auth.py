"""Signing in and out, and switching project. Throttling: services/throttle.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.cloud.credentials import keystone
from snapshots.cloud.identity import ScopedToken
from snapshots.middleware import scope_from_session
from snapshots.services import audit, throttle
from snapshots.services.throttle import Throttled

__all__ = ["NoProject", "SignIn", "Throttled", "keystone_sign_in", "keystone_sign_out"]


class NoProject(Exception):
    """The user holds no role on any project."""


@dataclass(frozen=True)
class SignIn:
    user: object
    session_data: dict


def _session_data(
    scoped: ScopedToken, unscoped: str, domain: str, projects: list[list[str]]
) -> dict:
    return {
        "token": scoped.token,
        "unscoped_token": unscoped,
        "expires_at": scoped.expires_at.isoformat() if scoped.expires_at else "",
        "user_id": scoped.user_id,
        "user_name": scoped.user_name,
        "domain": domain,
        "project_id": scoped.project_id,
        "project_name": scoped.project_name,
        "roles": list(scoped.roles),
        "endpoint": scoped.cinder_endpoint,
        "projects": projects,
    }


def keystone_sign_in(
    *, username: str, password: str, domain: str, client_addr: str | None
) -> SignIn:
    """Password -> unscoped token -> the user's projects -> a token scoped to the first one."""
    throttle.reserve(username, client_addr)  # before Keystone: raises Throttled past the limit
    ks = keystone()
    try:
        unscoped = ks.password(username, password, domain)
    except errors.BadCredentials:
        audit.record(
            scope=None,
            actor_name=f"{username}@{domain}",
            action="sign_in",
            outcome=Outcome.DENIED,
            message="wrong user name, password or domain",
            client_addr=client_addr,
        )
        raise
    except errors.CloudError:
        throttle.release(username, client_addr, signed_in=False)  # Keystone never judged it
        raise
    throttle.release(username, client_addr, signed_in=True)
    projects = ks.projects(unscoped.token)
    if not projects:
        ks.revoke(unscoped.token)
        raise NoProject("You have no role on any project. Ask your cloud administrator.")
    scoped = ks.scope(unscoped.token, projects[0].id)
    pairs = [[p.id, p.name] for p in projects]
    data = _session_data(scoped, unscoped.token, unscoped.domain_name, pairs)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=f"{unscoped.user_name}@{unscoped.domain_name}"[:150]
    )
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    audit.record(
        scope=scope_from_session(data),
        action="sign_in",
        outcome=Outcome.SUCCESS,
        client_addr=client_addr,
    )
    return SignIn(user=user, session_data=data)


def switch_project(data: dict, project_id: str) -> dict:
    """Scope the user's token to another of their projects."""
    if project_id not in {p[0] for p in data.get("projects", [])}:
        raise errors.Forbidden("You have no role on that project")
    ks = keystone()
    scoped = ks.scope(data["unscoped_token"], project_id)
    ks.revoke(data["token"])
    return _session_data(scoped, data["unscoped_token"], data.get("domain", ""), data["projects"])


def keystone_sign_out(data: dict | None) -> None:
    if not data:
        return
    ks = keystone()
    for key in ("token", "unscoped_token"):
        if data.get(key):
            ks.revoke(data[key])
