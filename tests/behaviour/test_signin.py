"""Signing in: Keystone users and roles through the login form; local users over noauth Cinder."""

from __future__ import annotations

import pytest
from django.test import Client

from snapshots.models import AuditEvent
from tests.behaviour.helpers import local_sign_in, local_user, sign_in, sync_all

ROLE_LABEL = 'id="current-role" title="Your role in this project">{}<'


@pytest.mark.parametrize(
    ("user", "role", "first_project"),
    [("demo", "member", "alpha"), ("auditor", "reader", "alpha"), ("admin", "admin", None)],
)
def test_keystone_sign_in_for_each_role(keystone_mode, user, role, first_project):
    client = sign_in(keystone_mode, user, project="alpha")
    data = client.session["cloud"]
    assert data["user_id"] == keystone_mode.user_id(user)
    assert data["project_id"] == keystone_mode.project_id("alpha")
    assert role in data["roles"]
    assert data["endpoint"].endswith(keystone_mode.project_id("alpha"))
    page = client.get("/snapshots/")
    assert page.status_code == 200
    html = page.content.decode()
    assert ROLE_LABEL.format(role) in html
    assert data["token"] not in html
    projects = {name for _, name in data["projects"]}
    expected = {"demo": {"alpha", "beta"}, "auditor": {"alpha", "beta", "gamma"}}
    assert projects >= expected.get(user, {"alpha", "beta", "gamma"})
    if first_project:  # the first project by name is where a sign-in starts
        assert sorted(projects)[0] == first_project
    event = AuditEvent.objects.get(action="sign_in")
    assert (event.outcome, event.actor_id) == ("success", data["user_id"])


def test_keystone_wrong_password_is_refused(keystone_mode):
    client = Client()
    response = client.post(
        "/auth/login/", {"username": "demo", "password": "not-it", "domain": "Default"}
    )
    assert response.status_code == 401
    assert "Wrong user name, password or domain" in response.content.decode()
    assert client.get("/snapshots/").status_code == 302


def test_keystone_member_switches_project_and_gets_a_new_token(keystone_mode):
    client = sign_in(keystone_mode, "demo")
    before = client.session["cloud"]["token"]
    response = client.post("/auth/project/", {"project_id": keystone_mode.project_id("beta")})
    assert response.status_code == 302
    data = client.session["cloud"]
    assert data["project_name"] == "beta" and data["token"] != before
    refused = client.post(
        "/auth/project/", {"project_id": keystone_mode.project_id("gamma")}, follow=True
    )
    assert "no role on that project" in refused.content.decode()


@pytest.mark.parametrize("role", ["reader", "member", "admin"])
def test_local_sign_in_for_each_group(local_mode, role):
    local_user("pat", role)
    client = local_sign_in("pat")
    page = client.get("/snapshots/")
    assert page.status_code == 200
    assert ROLE_LABEL.format(role) in page.content.decode()
    # The project is the one of the noauth token; the create page lists the volume mirror.
    sync_all()
    create = client.get("/snapshots/create/")
    assert create.status_code == (403 if role == "reader" else 200)
    if role != "reader":
        html = create.content.decode()
        assert all(f"alpha-vol-{n}" in html for n in (1, 2, 3))
        assert "beta-vol-1" not in html


def test_local_wrong_password_is_refused(local_mode):
    local_user("pat", "member")
    response = Client().post("/auth/login/", {"username": "pat", "password": "wrong"})
    assert response.status_code == 401
