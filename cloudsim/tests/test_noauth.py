"""The noauth Cinder (`/volume-noauth/v3`): what a real cinder-api with auth_strategy = noauth does.

Measured against cinder 29.0.0 (tests/realcloud): a request without a token gets an empty 204 that
offers `admin:admin`; with a token `user:project` every caller is admin in that project; a project
in the URL that is not the token's is "Malformed request url"; and it shares its state with the
Keystone-protected API.
"""

from __future__ import annotations

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack import connection

from cloudsim.tests.conftest import make_conn


def _noauth_conn(sim, project: str = "alpha", user: str = "someone"):
    endpoint = sim.noauth_endpoint(project)
    token = f"{user}:{sim.project_id(project)}"
    sess = ks_session.Session(
        auth=token_endpoint.Token(endpoint, token), additional_headers={"X-Auth-Token": token}
    )
    return connection.Connection(session=sess, block_storage_endpoint_override=endpoint)


def test_no_token_is_an_empty_204_offering_admin(sim):
    for url in (sim.noauth_url + "/", sim.noauth_endpoint("alpha") + "/snapshots"):
        resp = requests.get(url, timeout=10)
        assert resp.status_code == 204
        assert resp.content == b""
        assert resp.headers["X-Auth-Token"] == "admin:admin"


def test_version_document_with_a_token(sim):
    resp = requests.get(sim.noauth_url + "/", headers={"X-Auth-Token": "a:b"}, timeout=10)
    assert resp.status_code == 200
    version = resp.json()["versions"][0]
    assert (version["min_version"], version["version"]) == ("3.0", "3.71")
    assert version["links"][1]["href"] == sim.noauth_url + "/"


def test_every_caller_is_admin_and_sees_the_keystone_apis_state(sim):
    conn = _noauth_conn(sim)
    assert conn.block_storage.get_endpoint_data().max_microversion == (3, 71)
    everyone = list(conn.block_storage.snapshots(all_projects=True))
    assert {s.project_id for s in everyone} == {
        sim.project_id(p) for p in ("alpha", "beta", "gamma")
    }
    volume = next(v for v in conn.block_storage.volumes() if v.status == "available")
    made = conn.block_storage.create_snapshot(volume_id=volume.id, name="from-noauth")
    # An admin action, refused to a member through Keystone, is allowed here.
    conn.block_storage.reset_snapshot_status(made.id, "error")
    seen = make_conn(sim, "admin", "alpha").block_storage.get_snapshot(made.id)
    assert (seen.name, seen.status, seen.project_id) == ("from-noauth", "error", volume.project_id)
    assert seen.user_id == "someone"


def test_another_projects_url_is_malformed(sim):
    resp = requests.get(
        sim.noauth_endpoint("beta") + "/snapshots",
        headers={"X-Auth-Token": f"x:{sim.project_id('alpha')}"},
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == "Malformed request url"
