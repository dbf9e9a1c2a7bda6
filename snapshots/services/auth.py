"""Signing in and out, switching project, and throttling repeated failures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.cloud.credentials import keystone
from snapshots.cloud.identity import ScopedToken
from snapshots.middleware import scope_from_session
from snapshots.services import audit


class Throttled(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-ins. Try again in {max(1, seconds // 60)} minute(s)."
        )
        self.seconds = seconds


class NoProject(Exception):
    """The user holds no role on any project."""


def _throttle_key(username: str, client_addr: str | None) -> str:
    raw = f"{username.lower()}|{client_addr or ''}".encode()
    return "login-fail:" + hashlib.sha256(raw).hexdigest()


def check_throttle(username: str, client_addr: str | None) -> None:
    failures = cache.get(_throttle_key(username, client_addr), 0)
    if failures >= settings.LOGIN_THROTTLE_ATTEMPTS:
        raise Throttled(settings.LOGIN_THROTTLE_WINDOW)


def note_failure(username: str, client_addr: str | None) -> None:
    key = _throttle_key(username, client_addr)
    if cache.add(key, 1, settings.LOGIN_THROTTLE_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.LOGIN_THROTTLE_WINDOW)


def clear_failures(username: str, client_addr: str | None) -> None:
    cache.delete(_throttle_key(username, client_addr))


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
    check_throttle(username, client_addr)
    ks = keystone()
    try:
        unscoped = ks.password(username, password, domain)
    except errors.BadCredentials:
        note_failure(username, client_addr)
        audit.record(
            scope=None,
            actor_name=f"{username}@{domain}",
            action="sign_in",
            outcome=Outcome.DENIED,
            message="wrong user name, password or domain",
            client_addr=client_addr,
        )
        raise
    projects = ks.projects(unscoped.token)
    if not projects:
        ks.revoke(unscoped.token)
        raise NoProject("You have no role on any project. Ask your cloud administrator.")
    scoped = ks.scope(unscoped.token, projects[0].id)
    clear_failures(username, client_addr)
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
