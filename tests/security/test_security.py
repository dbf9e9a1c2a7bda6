"""Security properties of every page at once: they are checked over the whole URL map, so a new
view that forgets one fails here even if its own tests do not think of it.

- every POST needs a CSRF token;
- a GET changes nothing, locally or in the cloud;
- another project's snapshot is a 404 on every per-object URL, for reads and writes;
- user data (names, descriptions, metadata) is escaped everywhere it is shown;
- no token reaches a URL, a task argument or a log line.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from snapshots import urls as snapshot_urls
from snapshots.models import AuditEvent, Operation, Snapshot, StatusChange
from snapshots.tests.actions_helpers import synced_snapshot

pytestmark = pytest.mark.django_db(transaction=True)

XSS_NAME = '<script>alert("name")</script>'
XSS_DESCRIPTION = '"><img src=x onerror=alert(1)>'
XSS_META = {"note": "<b onmouseover=alert(2)>x</b>"}

OBJECT_URLS = [p for p in snapshot_urls.urlpatterns if "snapshot_id" in str(p.pattern)]
PLAIN_URLS = [p for p in snapshot_urls.urlpatterns if "snapshot_id" not in str(p.pattern)]
WRITE_ROUTES = ("POST ", "PUT ", "DELETE ")


def _url(pattern: URLPattern, snapshot_id: str | None = None) -> str:
    kwargs = {"snapshot_id": snapshot_id} if snapshot_id else {}
    return reverse(f"snapshots:{pattern.name}", kwargs=kwargs)


def _cloud_writes(sim) -> dict:
    routes = sim.stats()["by_route"]
    return {r: n for r, n in routes.items() if r.startswith(WRITE_ROUTES) and "/volume/" in r}


@pytest.fixture
def mirrored(cloud):
    """The demo cloud in the mirror, plus a snapshot whose every field is hostile."""
    hostile = synced_snapshot(
        cloud, "xss-volume", XSS_NAME, description=XSS_DESCRIPTION, metadata=XSS_META
    )
    other = Snapshot.objects.filter(project_id=cloud.project_id("gamma")).first()
    assert other is not None
    return {"hostile": hostile, "gamma": other}


def test_every_post_needs_a_csrf_token(login, mirrored):
    client = login("admin")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    urls = [_url(p) for p in PLAIN_URLS] + [_url(p, mirrored["hostile"].id) for p in OBJECT_URLS]
    urls += ["/auth/logout/", "/auth/project/"]
    for url in urls:
        response = strict.post(url, {"status": "error", "reason": "x", "name": "x"})
        assert response.status_code == 403, url
        assert b"CSRF" in response.content, url


def test_no_get_changes_anything(login, mirrored, cloud):
    client = login("admin")
    snapshot = mirrored["hostile"]
    before = (
        AuditEvent.objects.count(),
        StatusChange.objects.count(),
        Operation.objects.count(),
        sorted(Snapshot.objects.values_list("id", "version")),
    )
    cloud.reset_stats()
    urls = [_url(p) for p in PLAIN_URLS] + [_url(p, snapshot.id) for p in OBJECT_URLS]
    for url in urls:
        response = client.get(url)
        assert response.status_code in {200, 286, 302, 405}, (url, response.status_code)
    after = (
        AuditEvent.objects.count(),
        StatusChange.objects.count(),
        Operation.objects.count(),
        sorted(Snapshot.objects.values_list("id", "version")),
    )
    assert after == before
    assert _cloud_writes(cloud) == {}


def test_another_projects_snapshot_is_404_on_every_object_url(login, mirrored, cloud):
    client = login("demo")  # member of alpha (and beta), not gamma
    foreign = mirrored["gamma"]
    cloud.reset_stats()
    for pattern in OBJECT_URLS:
        url = _url(pattern, foreign.id)
        assert client.get(url).status_code == 404, url
        # A read-only page answers 405 to any POST whatever the id, which tells nothing.
        assert client.post(url, {"reason": "x", "status": "error"}).status_code in {404, 405}, url
    assert _cloud_writes(cloud) == {}
    foreign.refresh_from_db()
    assert foreign.deleted_at is None


def test_a_member_cannot_reach_admin_pages_or_actions(login, mirrored, cloud):
    client = login("demo")
    own = Snapshot.objects.filter(project_id=cloud.project_id("alpha"), status="available").first()
    assert client.get(reverse("snapshots:stuck")).status_code == 403
    cloud.reset_stats()
    for name in ("force-delete", "reset-status", "set-status"):
        url = reverse(f"snapshots:{name}", kwargs={"snapshot_id": own.id})
        response = client.post(url, {"status": "error", "reason": "x", "progress": "10"})
        assert response.status_code == 403, name
    for name in ("bulk-force-delete", "bulk-reset-status"):
        response = client.post(reverse(f"snapshots:{name}"), {"ids": [own.id], "status": "error"})
        assert response.status_code == 403, name
    assert _cloud_writes(cloud) == {}


def test_user_data_is_escaped_on_every_page(login, mirrored):
    client = login("admin")
    snapshot = mirrored["hostile"]
    urls = [_url(p) for p in PLAIN_URLS] + [_url(p, snapshot.id) for p in OBJECT_URLS]
    shown = 0
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        for raw in (XSS_NAME, XSS_DESCRIPTION, XSS_META["note"]):
            assert raw not in body, url
        shown += "&lt;script&gt;alert(" in body
    assert shown >= 2  # at least the list and the detail page show the name, escaped


def test_tokens_stay_out_of_urls_task_arguments_and_logs(login, mirrored, enqueued, caplog):
    client = login("demo")
    data = client.session["cloud"]
    secrets = {data["token"], data["unscoped_token"]}
    volume = mirrored["hostile"].volume_id
    with caplog.at_level(logging.DEBUG):
        page = client.get(reverse("snapshots:create"))
        key = re.search(rb'name="idempotency_key" value="([^"]+)"', page.content).group(1)
        response = client.post(
            reverse("snapshots:create"),
            {
                "idempotency_key": key.decode(),
                "volume": volume,
                "name": "nightly",
                "description": "",
                "meta-TOTAL_FORMS": "0",
                "meta-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302
    assert enqueued, "creating a snapshot asks the worker to track it"
    for value in secrets:
        assert value not in response["Location"]
        assert value not in repr(enqueued)
        assert value not in caplog.text
    for event in AuditEvent.objects.all():
        for value in secrets:
            assert value not in repr(event.parameters) + event.message


def test_a_refusal_page_says_why(login, mirrored, cloud):
    client = login("demo")
    response = client.get(reverse("snapshots:stuck"))
    assert response.status_code == 403
    body = response.content.decode()
    assert 'id="refusal-reason"' in body
    assert "Your role does not allow" in body
    assert 'id="current-user"' in body  # the normal layout, with the header and sign-out
