"""Builds `request.dashboard_scope` for each request; signs out users whose token has expired."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse

from snapshots.choices import ROLE_GROUPS
from snapshots.cloud import errors
from snapshots.cloud.credentials import local_project
from snapshots.permissions import ProjectRef, Scope


def scope_from_session(data: dict) -> Scope:
    roles = frozenset(data.get("roles", ()))
    projects = tuple(ProjectRef(id=p[0], name=p[1]) for p in data.get("projects", ()))
    if "admin" in roles:
        readable = None
    elif "member" in roles:
        readable = frozenset({data["project_id"]})
    else:  # a reader audits every project they hold a role on
        readable = frozenset(p.id for p in projects) | {data["project_id"]}
    return Scope(
        user_id=data["user_id"],
        username=data["user_name"],
        project_id=data["project_id"],
        project_name=data.get("project_name", ""),
        roles=roles,
        projects=projects,
        mode="keystone",
        readable_projects=readable,
    )


def scope_from_user(user) -> Scope:
    names = set(user.groups.values_list("name", flat=True))
    roles = {str(role) for group, role in ROLE_GROUPS.items() if group in names}
    if user.is_superuser:
        roles.add("admin")
    if "admin" in roles:
        roles |= {"member", "reader"}
    elif "member" in roles:
        roles.add("reader")
    project_id, project_name = local_project()
    readable = None if ("admin" in roles or "member" not in roles) else frozenset({project_id})
    return Scope(
        user_id=str(user.pk),
        username=user.get_username(),
        project_id=project_id,
        project_name=project_name,
        roles=frozenset(roles),
        projects=(ProjectRef(id=project_id, name=project_name),) if project_id else (),
        mode="local",
        readable_projects=readable,
    )


def _expired(data: dict) -> bool:
    expires = data.get("expires_at")
    if not expires:
        return False
    return datetime.fromisoformat(expires) <= datetime.now(UTC)


def _to_login(request, message: str) -> HttpResponseRedirect:
    logout(request)
    messages.warning(request, message)
    url = reverse("login")
    if request.method == "GET" and not request.htmx:
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


def _outside_the_dashboard(path: str) -> bool:
    """Django admin and the sign-in pages work without a cloud scope; nothing else does."""
    return path.startswith((reverse("admin:index"), reverse("login"), reverse("logout")))


def _to_cloud_login(request) -> HttpResponseRedirect:
    messages.info(request, "Sign in with your cloud account to use the dashboard.")
    url = reverse("login")
    if request.method == "GET" and not request.htmx:
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


class ScopeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.dashboard_scope = None
        if request.user.is_authenticated:
            if settings.DASHBOARD_AUTH == "keystone":
                data = request.session.get("cloud")
                if not data:
                    if not request.user.is_staff:
                        return _to_login(request, "Please sign in again.")
                    if not _outside_the_dashboard(request.path):
                        # Signed in to Django admin only: the dashboard needs a cloud sign-in.
                        return _to_cloud_login(request)
                elif _expired(data):
                    return _to_login(request, "Your session has expired. Please sign in again.")
                else:
                    request.dashboard_scope = scope_from_session(data)
            else:
                request.dashboard_scope = scope_from_user(request.user)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, errors.NotAuthenticated) and request.user.is_authenticated:
            return _to_login(
                request, "The cloud no longer accepts your sign-in. Please sign in again."
            )
        return None
