"""Who may do what. Checked on the server for every request and every object.

A user's `Scope` says who they are, which project they work in, their roles there, and which
projects they may see. Views ask `can()` before showing a button and `require()` before acting.
Cinder's own policy stays the last word: a 403 from Cinder is shown as a readable message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404


class Action(StrEnum):
    VIEW = "view"
    EXPORT = "export"
    AUDIT = "audit"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    FORCE_DELETE = "force_delete"
    RESET_STATUS = "reset_status"
    SET_STATUS = "set_status"
    REVERT = "revert"  # a volume to its latest snapshot
    MANAGE = "manage"  # manage and unmanage snapshots (admins)


READ_ACTIONS = frozenset({Action.VIEW, Action.EXPORT})
MEMBER_ACTIONS = READ_ACTIONS | {Action.CREATE, Action.EDIT, Action.DELETE, Action.REVERT}
ADMIN_ACTIONS = frozenset(Action)


@dataclass(frozen=True)
class ProjectRef:
    id: str
    name: str


@dataclass(frozen=True)
class Scope:
    """The signed-in user as the dashboard sees them on this request."""

    user_id: str
    username: str
    project_id: str
    project_name: str
    roles: frozenset[str]
    projects: tuple[ProjectRef, ...] = ()
    mode: str = "keystone"
    # Every project this user may read: None means the whole cloud.
    readable_projects: frozenset[str] | None = field(default=None)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_member(self) -> bool:
        return self.is_admin or "member" in self.roles

    @property
    def is_reader(self) -> bool:
        return self.is_member or "reader" in self.roles

    @property
    def is_auditor(self) -> bool:
        """Reads and audits without changing anything."""
        return self.is_reader and not self.is_member

    @property
    def role_label(self) -> str:
        if self.is_admin:
            return "admin"
        if self.is_member:
            return "member"
        if self.is_reader:
            return "reader"
        return "none"

    @property
    def sees_all_projects(self) -> bool:
        return self.readable_projects is None

    def allowed_actions(self) -> frozenset[Action]:
        if self.is_admin:
            return ADMIN_ACTIONS
        if self.is_member:
            return MEMBER_ACTIONS
        if self.is_reader:
            return READ_ACTIONS | {Action.AUDIT}
        return frozenset()

    def can_read_project(self, project_id: str) -> bool:
        if not self.is_reader:
            return False
        return self.readable_projects is None or project_id in self.readable_projects

    def can_write_project(self, project_id: str) -> bool:
        """Members change their current project only; admins any project."""
        if self.is_admin:
            return True
        return self.is_member and project_id == self.project_id


def can(scope: Scope | None, action: Action, project_id: str | None = None) -> bool:
    """May `scope` do `action`, on an object of `project_id` when given?"""
    if scope is None or action not in scope.allowed_actions():
        return False
    if project_id is None:
        return True
    if action in READ_ACTIONS or action == Action.AUDIT:
        return scope.can_read_project(project_id)
    return scope.can_write_project(project_id)


def require(scope: Scope | None, action: Action, project_id: str | None = None) -> None:
    """Raise 404 for an object the user may not even see, 403 for one they may not change."""
    if scope is None:
        raise PermissionDenied("Sign in first")
    if project_id is not None and not scope.can_read_project(project_id):
        raise Http404("No such snapshot")
    if not can(scope, action, project_id):
        raise PermissionDenied(f"Your role does not allow '{action}'")
