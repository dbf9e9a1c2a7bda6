"""Pages never wait on the cloud: a GET of every URL of the URL map, for every role, makes no
request to the simulator (Keystone or Cinder). Only POSTs talk to the cloud."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from snapshots.choices import Outcome
from snapshots.models import AlertRule, Operation, Snapshot, Webhook
from snapshots.services import audit
from snapshots.tests.actions_helpers import (
    mirrored_fixture,  # noqa: F401 (the fixture)
    pick,
    signed_in,
)


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend(_patterns(entry, route))
        else:
            found.append((route, entry))
    return found


def _urls(snapshot: Snapshot, rule: AlertRule, webhook: Webhook) -> list[str]:
    values = {"snapshot_id": snapshot.id, "rule_id": str(rule.pk), "webhook_id": str(webhook.pk)}
    urls = []
    for route, _ in _patterns(get_resolver()):
        if route.startswith("django-admin/") and route != "django-admin/":
            continue  # the Django admin's own pages: its index stands for them
        path = route.lstrip("^").rstrip("$")
        for name, value in values.items():
            path = path.replace(f"<str:{name}>", value).replace(f"<int:{name}>", value)
        assert "<" not in path, f"a URL parameter this test does not know: {route}"
        urls.append("/" + path)
    return urls


def _queries(snapshot: Snapshot, event_id: int) -> dict[str, str]:
    """Query strings that make the pages do their real work (a selection, a stale version)."""
    stale = f"{snapshot.id}:{snapshot.version - 1}"
    return {
        "/snapshots/bulk/delete/": f"?ids={snapshot.id}",
        "/snapshots/bulk/force-delete/": f"?ids={snapshot.id}",
        "/snapshots/bulk/reset-status/": f"?ids={snapshot.id}",
        "/snapshots/live/": f"?row={stale}",
        f"/snapshots/{snapshot.id}/live/": f"?row={stale}",
        "/snapshots/": "?export=csv",
        "/snapshots/operation/": f"?event={event_id}",
    }


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_no_get_of_any_url_calls_the_cloud(mirrored, user):
    snapshot = pick(mirrored.project_id("alpha"), "available")
    client = signed_in(mirrored, user)
    event = audit.record(
        scope=None, action="delete_snapshot", outcome=Outcome.UNKNOWN, target_id=snapshot.id
    )
    Operation.objects.create(
        key=f"k-{user}",
        actor_id=client.session["cloud"]["user_id"],
        action="delete_snapshot",
        state=Operation.UNKNOWN,
        event_id=event.id,
        target_id=snapshot.id,
    )
    queries = _queries(snapshot, event.id)
    rule = AlertRule.objects.create(name=f"stuck-{user}", kind="stuck", threshold=30)
    webhook = Webhook.objects.create(name=f"hook-{user}", url="http://127.0.0.1:9/")
    urls = _urls(snapshot, rule, webhook)
    assert len(urls) >= 20
    for url in urls:
        mirrored.reset_stats()
        response = client.get(url + queries.get(url, ""))
        assert response.status_code < 500, url
        calls = mirrored.stats()["by_route"]
        assert not calls, f"GET {url} as {user} called the cloud: {calls}"
