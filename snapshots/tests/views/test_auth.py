"""Sign-in, project switching and sign-out, against the simulator's Keystone over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.test import Client

from snapshots.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/auth/login/"


def _token_is_valid(sim, token: str) -> bool:
    admin = sim.token("admin", "alpha")
    resp = requests.get(
        f"{sim.identity_url}/auth/tokens",
        headers={"X-Auth-Token": admin, "X-Subject-Token": token},
        timeout=10,
    )
    return resp.status_code == 200


def _post_login(client, user="demo", password="secret"):
    return client.post(LOGIN, {"username": user, "password": password, "domain": "Default"})


def test_login_page_renders_the_form(client, cloud):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    for field in ("id_username", "id_password", "id_domain", "csrfmiddlewaretoken"):
        assert field in body


def test_pages_need_a_signed_in_user(client, cloud):
    response = client.get("/snapshots/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_sign_in_keeps_the_token_server_side_only(client, cloud):
    response = _post_login(client)
    assert response.status_code == 302
    assert response["Location"] == "/snapshots/"
    data = client.session["cloud"]
    assert data["user_name"] == "demo"
    assert data["project_name"] == "alpha"
    assert set(data["roles"]) >= {"member", "reader"}
    assert data["endpoint"].endswith(cloud.project_id("alpha"))
    assert _token_is_valid(cloud, data["token"])
    for morsel in client.cookies.values():
        assert data["token"] not in morsel.value
        assert data["unscoped_token"] not in morsel.value
    page = client.get("/snapshots/").content.decode()
    assert "alpha" in page and "member" in page
    assert data["token"] not in page
    assert AuditEvent.objects.filter(action="sign_in", outcome="success").count() == 1


def test_wrong_password_is_a_clear_error_and_audited(client, cloud):
    response = _post_login(client, password="nope")
    assert response.status_code == 401
    assert "Wrong user name, password or domain" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="sign_in")
    assert event.outcome == "denied"
    assert "nope" not in str(event.parameters) + event.message


def test_repeated_failures_are_throttled_without_asking_keystone(client, cloud, settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    for _ in range(3):
        assert _post_login(client, password="bad").status_code == 401
    cloud.reset_stats()
    response = _post_login(client, password="secret")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert cloud.stats()["by_route"].get("POST /identity/v3/auth/tokens", 0) == 0
    # Another user from the same place is not locked out.
    assert _post_login(client, user="auditor").status_code == 302


def test_keystone_down_is_said_plainly(client, cloud):
    cloud.faults(keystone_down=True)
    response = _post_login(client)
    assert response.status_code == 503
    assert "Cannot sign in right now" in response.content.decode()


def test_login_needs_csrf(cloud):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "demo", "password": "secret", "domain": "Default"})
    assert response.status_code == 403


def test_logout_needs_post_and_csrf_and_revokes_tokens(login, cloud):
    client = login("demo")
    data = client.session["cloud"]
    assert client.get("/auth/logout/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post("/auth/logout/").status_code == 403
    assert _token_is_valid(cloud, data["token"])

    response = client.post("/auth/logout/")
    assert response.status_code == 302
    assert not _token_is_valid(cloud, data["token"])
    assert not _token_is_valid(cloud, data["unscoped_token"])
    assert client.get("/snapshots/").status_code == 302


def test_project_switcher_rescopes_the_token(login, cloud):
    client = login("demo")
    page = client.get("/snapshots/").content.decode()
    assert 'id="project-select"' in page and "beta" in page and "gamma" not in page
    old_token = client.session["cloud"]["token"]
    response = client.post("/auth/project/", {"project_id": cloud.project_id("beta")})
    assert response.status_code == 302
    data = client.session["cloud"]
    assert data["project_name"] == "beta"
    assert data["endpoint"].endswith(cloud.project_id("beta"))
    assert not _token_is_valid(cloud, old_token)
    assert _token_is_valid(cloud, data["token"])


def test_switching_to_a_project_without_a_role_is_refused(login, cloud):
    client = login("demo")
    response = client.post("/auth/project/", {"project_id": cloud.project_id("gamma")}, follow=True)
    assert "no role on that project" in response.content.decode()
    assert client.session["cloud"]["project_name"] == "alpha"


def test_expired_token_sends_the_user_back_to_sign_in(login, cloud):
    client = login("demo")
    session = client.session
    session["cloud"] = {
        **session["cloud"],
        "expires_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
    }
    session.save()
    response = client.get("/snapshots/", follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert "session has expired" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_open_redirects_are_refused(client, cloud):
    response = client.post(
        LOGIN + "?next=https://evil.example/",
        {"username": "demo", "password": "secret", "domain": "Default"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/snapshots/"


def test_roles_from_the_token(login, cloud):
    for user, label in (("demo", "member"), ("auditor", "reader"), ("admin", "admin")):
        client = login(user)
        page = client.get("/snapshots/").content.decode()
        assert f'id="current-role" title="Your role in this project">{label}<' in page
        client.post("/auth/logout/")


@pytest.fixture
def local_mode(settings, cloud):
    settings.DASHBOARD_AUTH = "local"
    for name in ("snapshot-readers", "snapshot-members", "snapshot-admins"):
        Group.objects.get_or_create(name=name)
    return cloud


@pytest.mark.parametrize(
    ("group", "role"),
    [("snapshot-readers", "reader"), ("snapshot-members", "member"), ("snapshot-admins", "admin")],
)
def test_local_sign_in_maps_groups_to_roles(client, local_mode, group, role):
    user = User.objects.create_user("pat", password="a-long-password-1")
    user.groups.add(Group.objects.get(name=group))
    response = client.post(LOGIN, {"username": "pat", "password": "a-long-password-1"})
    assert response.status_code == 302
    page = client.get("/snapshots/").content.decode()
    assert f'title="Your role in this project">{role}<' in page
    # The project is the service credential's (alpha in the demo cloud).
    assert "alpha" in page


def test_local_wrong_password_and_throttle(client, local_mode, settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 2
    User.objects.create_user("pat", password="a-long-password-1")
    for _ in range(2):
        response = client.post(LOGIN, {"username": "pat", "password": "wrong"})
        assert response.status_code == 401
    response = client.post(LOGIN, {"username": "pat", "password": "a-long-password-1"})
    assert response.status_code == 429


def test_local_user_without_a_group_cannot_see_snapshots(client, local_mode):
    User.objects.create_user("nobody", password="a-long-password-1")
    client.post(LOGIN, {"username": "nobody", "password": "a-long-password-1"})
    assert client.get("/snapshots/").status_code == 403


def test_a_token_revoked_elsewhere_signs_the_user_out_on_their_next_action(login, cloud):
    client = login("demo")
    data = client.session["cloud"]
    page = client.get("/snapshots/create/")
    key = page.content.decode().split('name="idempotency_key" value="')[1].split('"')[0]
    volume = next(v for v in cloud.info()["volumes"] if v["status"] == "available")
    admin = cloud.token("admin", "alpha")
    requests.delete(
        f"{cloud.identity_url}/auth/tokens",
        headers={"X-Auth-Token": admin, "X-Subject-Token": data["token"]},
        timeout=10,
    )
    response = client.post(
        "/snapshots/create/",
        {
            "idempotency_key": key,
            "volume": volume["id"],
            "name": "after-revocation",
            "meta-TOTAL_FORMS": "0",
            "meta-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert "no longer accepts your sign-in" in response.content.decode()
    assert "_auth_user_id" not in client.session
