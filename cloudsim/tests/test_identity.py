"""Keystone v3: discovery, tokens, scoping, validation, revocation, expiry, project listings."""

from __future__ import annotations

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.exceptions import Unauthorized
from keystoneauth1.identity import v3

from .conftest import make_conn


def password_body(user: dict, scope=None, password: str = "secret") -> dict:
    auth: dict = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {**user, "password": password}},
        }
    }
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def issue(sim, body) -> requests.Response:
    return requests.post(sim.identity_url + "/auth/tokens", json=body, timeout=10)


def test_version_documents(sim):
    r = requests.get(sim.url + "/identity", timeout=10)
    assert r.status_code == 300
    assert r.json()["versions"]["values"][0]["id"].startswith("v3")
    r = requests.get(sim.identity_url, timeout=10)
    assert r.status_code == 200
    assert r.json()["version"]["status"] == "stable"


@pytest.mark.parametrize(
    "user",
    [
        {"name": "demo", "domain": {"name": "Default"}},
        {"name": "demo", "domain": {"id": "default"}},
        "by-id",
    ],
)
def test_password_token_scoped_by_name(sim, user):
    if user == "by-id":
        user = {"id": sim.user_id("demo")}
    r = issue(sim, password_body(user, {"project": {"name": "alpha", "domain": {"id": "default"}}}))
    assert r.status_code == 201
    assert r.headers["X-Subject-Token"]
    tok = r.json()["token"]
    assert tok["user"]["id"] == sim.user_id("demo")
    assert tok["project"]["id"] == sim.project_id("alpha")
    assert tok["project"]["domain"] == {"id": "default", "name": "Default"}
    assert {r["name"] for r in tok["roles"]} == {"member", "reader"}
    assert tok["expires_at"].endswith("Z")
    by_type = {s["type"]: s for s in tok["catalog"]}
    assert {"block-storage", "volumev3", "identity"} <= set(by_type)
    for stype in ("block-storage", "volumev3"):
        (ep,) = by_type[stype]["endpoints"]
        assert ep["interface"] == "public"
        assert ep["region"] == "RegionOne"
        assert ep["url"] == f"{sim.url}/volume/v3/{sim.project_id('alpha')}"
    assert by_type["identity"]["endpoints"][0]["url"] == sim.identity_url


def test_scope_by_project_id_and_admin_roles(sim):
    body = password_body(
        {"name": "admin", "domain": {"name": "Default"}},
        {"project": {"id": sim.project_id("gamma")}},
    )
    tok = issue(sim, body).json()["token"]
    assert tok["project"]["name"] == "gamma"
    assert {r["name"] for r in tok["roles"]} == {"admin", "member", "reader"}


def test_unscoped_token_has_no_catalog(sim):
    r = issue(sim, password_body({"name": "demo", "domain": {"name": "Default"}}))
    assert r.status_code == 201
    tok = r.json()["token"]
    assert "catalog" not in tok
    assert "project" not in tok
    assert tok["roles"] == []


def test_token_method_rescopes_and_keeps_expiry(sim):
    first = issue(sim, password_body({"name": "demo", "domain": {"name": "Default"}}))
    unscoped = first.headers["X-Subject-Token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped}},
            "scope": {"project": {"name": "beta", "domain": {"name": "Default"}}},
        }
    }
    r = issue(sim, body)
    assert r.status_code == 201
    assert r.json()["token"]["project"]["name"] == "beta"
    assert r.json()["token"]["expires_at"] == first.json()["token"]["expires_at"]


@pytest.mark.parametrize(
    "body",
    [
        password_body({"name": "demo", "domain": {"name": "Default"}}, password="wrong"),
        password_body({"name": "nobody", "domain": {"name": "Default"}}),
        password_body({"name": "demo", "domain": {"name": "Other"}}),
        password_body(
            {"name": "demo", "domain": {"name": "Default"}},
            {"project": {"name": "gamma", "domain": {"name": "Default"}}},
        ),
        {"auth": {"identity": {"methods": ["token"], "token": {"id": "bogus"}}}},
    ],
    ids=["wrong-password", "unknown-user", "unknown-domain", "no-role-on-project", "bad-token"],
)
def test_bad_credentials_give_401_envelope(sim, body):
    r = issue(sim, body)
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == 401
    assert err["title"] == "Unauthorized"
    assert "X-Subject-Token" not in r.headers


def test_validate_and_revoke(sim):
    token = sim.token("demo", "alpha")
    other = sim.token("demo", "beta")
    url = sim.identity_url + "/auth/tokens"
    r = requests.get(url, headers={"X-Auth-Token": other, "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 200
    assert r.json()["token"]["project"]["name"] == "alpha"
    r = requests.get(url, headers={"X-Auth-Token": other, "X-Subject-Token": "nope"}, timeout=10)
    assert r.status_code == 404
    r = requests.get(url, headers={"X-Subject-Token": token}, timeout=10)
    assert r.status_code == 401
    r = requests.delete(url, headers={"X-Auth-Token": other, "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 204
    r = requests.get(url, headers={"X-Auth-Token": other, "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 404
    api = f"{sim.url}/volume/v3/{sim.project_id('alpha')}/snapshots"
    r = requests.get(api, headers={"X-Auth-Token": token}, timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401


def test_token_expiry_follows_the_simulated_clock(sim):
    token = sim.token("demo", "alpha")
    api = f"{sim.url}/volume/v3/{sim.project_id('alpha')}/snapshots"
    assert requests.get(api, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    sim.advance(3601)
    assert requests.get(api, headers={"X-Auth-Token": token}, timeout=10).status_code == 401
    fresh = sim.token("demo", "alpha")
    url = sim.identity_url + "/auth/tokens"
    r = requests.get(url, headers={"X-Auth-Token": fresh, "X-Subject-Token": token}, timeout=10)
    assert r.status_code == 404


def test_cinder_without_token_is_401(sim):
    r = requests.get(f"{sim.url}/volume/v3/{sim.project_id('alpha')}/snapshots", timeout=10)
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers
    unscoped = issue(sim, password_body({"name": "demo", "domain": {"name": "Default"}}))
    r = requests.get(
        f"{sim.url}/volume/v3/snapshots",
        headers={"X-Auth-Token": unscoped.headers["X-Subject-Token"]},
        timeout=10,
    )
    assert r.status_code == 401


def test_auth_projects_and_user_projects(sim):
    token = sim.token("demo", "alpha")
    h = {"X-Auth-Token": token}
    r = requests.get(sim.identity_url + "/auth/projects", headers=h, timeout=10)
    assert r.status_code == 200
    assert sorted(p["name"] for p in r.json()["projects"]) == ["alpha", "beta"]
    uid = sim.user_id("demo")
    r = requests.get(f"{sim.identity_url}/users/{uid}/projects", headers=h, timeout=10)
    assert sorted(p["name"] for p in r.json()["projects"]) == ["alpha", "beta"]
    r = requests.get(
        f"{sim.identity_url}/users/{sim.user_id('admin')}/projects", headers=h, timeout=10
    )
    assert r.status_code == 403
    admin = {"X-Auth-Token": sim.token("admin", "alpha")}
    r = requests.get(f"{sim.identity_url}/users/{uid}/projects", headers=admin, timeout=10)
    assert r.status_code == 200


def test_list_projects_is_admin_only_and_filters(sim):
    url = sim.identity_url + "/projects"
    r = requests.get(url, headers={"X-Auth-Token": sim.token("demo", "alpha")}, timeout=10)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == 403
    admin = {"X-Auth-Token": sim.token("admin", "alpha")}
    r = requests.get(url, headers=admin, timeout=10)
    assert sorted(p["name"] for p in r.json()["projects"]) == ["alpha", "beta", "gamma"]
    r = requests.get(url, headers=admin, params={"name": "beta"}, timeout=10)
    assert [p["id"] for p in r.json()["projects"]] == [sim.project_id("beta")]
    r = requests.get(url, headers=admin, params={"domain_id": "nope"}, timeout=10)
    assert r.json()["projects"] == []


def test_project_ids_are_stable_hex(sim):
    for name in ("alpha", "beta", "gamma"):
        pid = sim.project_id(name)
        assert len(pid) == 32
        int(pid, 16)


def _auditor_in_beta(sim, password: str) -> v3.Password:
    return v3.Password(
        auth_url=sim.identity_url,
        username="auditor",
        password=password,
        project_name="beta",
        user_domain_id="default",
        project_domain_id="default",
    )


def test_keystoneauth_password_plugin(sim):
    auth = _auditor_in_beta(sim, "secret")
    sess = ks_session.Session(auth=auth)
    assert sess.get_project_id() == sim.project_id("beta")
    endpoint = sess.get_endpoint(service_type="block-storage", interface="public")
    assert endpoint == f"{sim.url}/volume/v3/{sim.project_id('beta')}"
    bad = _auditor_in_beta(sim, "nope")
    with pytest.raises(Unauthorized):
        ks_session.Session(auth=bad).get_token()


def test_sdk_discovers_3_71_and_uses_3_65_for_snapshots(sim):
    conn = make_conn(sim)
    data = conn.block_storage.get_endpoint_data()
    assert data.min_microversion == (3, 0)
    assert data.max_microversion == (3, 71)
    sim.reset_stats()
    list(conn.block_storage.snapshots(limit=5, paginated=False))
    conn.block_storage.get_volume(next(iter(conn.block_storage.volumes())).id)
    seen = {(r["route"], r["microversion"]) for r in sim.requests()}
    assert ("GET /volume/v3/{project_id}/snapshots/detail", "volume 3.65") in seen
    conn.close()


def test_wrong_password_through_sdk(sim):
    with pytest.raises(Unauthorized):
        make_conn(sim, password="wrong").block_storage.get_endpoint()


def test_sdk_with_a_token_from_the_session(sim):
    from openstack import connection

    unscoped = issue(sim, password_body({"name": "demo", "domain": {"name": "Default"}}))
    conn = connection.Connection(
        auth_type="v3token",
        auth_url=sim.identity_url,
        token=unscoped.headers["X-Subject-Token"],
        project_id=sim.project_id("beta"),
        region_name="RegionOne",
    )
    items = list(conn.block_storage.snapshots())
    assert items
    assert {s.project_id for s in items} == {sim.project_id("beta")}
    conn.close()


def test_nocatalog_and_malformed_bodies(sim):
    body = password_body(
        {"name": "demo", "domain": {"id": "default"}},
        {"project": {"name": "alpha", "domain": {"id": "default"}}},
    )
    r = requests.post(sim.identity_url + "/auth/tokens?nocatalog", json=body, timeout=10)
    assert r.status_code == 201
    assert "catalog" not in r.json()["token"]
    assert r.json()["token"]["project"]["name"] == "alpha"
    r = issue(sim, password_body({"name": "demo"}))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400
    assert issue(sim, {"nope": 1}).status_code == 400
    r = requests.post(sim.identity_url + "/auth/tokens", data="{", timeout=10)
    assert r.status_code == 400
