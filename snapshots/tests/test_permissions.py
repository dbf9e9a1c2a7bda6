"""Roles and per-object checks, without any cloud."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from snapshots.permissions import Action, Scope, can, require

ALPHA, BETA = "a" * 32, "b" * 32


def scope(roles, readable=frozenset({ALPHA})):
    return Scope(
        user_id="u",
        username="u",
        project_id=ALPHA,
        project_name="alpha",
        roles=frozenset(roles),
        readable_projects=readable,
    )


MEMBER = scope({"member", "reader"})
READER = scope({"reader"}, readable=frozenset({ALPHA, BETA}))
ADMIN = scope({"admin", "member", "reader"}, readable=None)
NOBODY = scope(set())


@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        (MEMBER, Action.VIEW, True),
        (MEMBER, Action.CREATE, True),
        (MEMBER, Action.DELETE, True),
        (MEMBER, Action.FORCE_DELETE, False),
        (MEMBER, Action.RESET_STATUS, False),
        (MEMBER, Action.SET_STATUS, False),
        (READER, Action.VIEW, True),
        (READER, Action.EXPORT, True),
        (READER, Action.AUDIT, True),
        (READER, Action.CREATE, False),
        (READER, Action.EDIT, False),
        (READER, Action.DELETE, False),
        (ADMIN, Action.FORCE_DELETE, True),
        (ADMIN, Action.RESET_STATUS, True),
        (ADMIN, Action.AUDIT, True),
        (NOBODY, Action.VIEW, False),
    ],
)
def test_role_matrix(who, action, allowed):
    assert can(who, action) is allowed


def test_member_reads_and_writes_their_project_only():
    assert can(MEMBER, Action.VIEW, ALPHA)
    assert can(MEMBER, Action.DELETE, ALPHA)
    assert not can(MEMBER, Action.VIEW, BETA)
    assert not can(MEMBER, Action.DELETE, BETA)
    assert not can(MEMBER, Action.AUDIT)


def test_reader_reads_every_project_it_holds_a_role_on_and_writes_none():
    assert can(READER, Action.VIEW, BETA)
    assert not can(READER, Action.VIEW, "c" * 32)
    assert not can(READER, Action.EDIT, ALPHA)
    assert READER.is_auditor and not MEMBER.is_auditor


def test_admin_reaches_everything():
    assert can(ADMIN, Action.RESET_STATUS, BETA)
    assert ADMIN.sees_all_projects


def test_require_hides_other_projects_with_404_and_refuses_with_403():
    with pytest.raises(Http404):
        require(MEMBER, Action.VIEW, BETA)
    with pytest.raises(Http404):
        require(MEMBER, Action.FORCE_DELETE, BETA)
    with pytest.raises(PermissionDenied):
        require(MEMBER, Action.FORCE_DELETE, ALPHA)
    with pytest.raises(PermissionDenied):
        require(READER, Action.DELETE, ALPHA)
    with pytest.raises(PermissionDenied):
        require(None, Action.VIEW)
    require(ADMIN, Action.FORCE_DELETE, BETA)
