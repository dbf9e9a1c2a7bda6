"""Heavy reads (the list's count, the overview's aggregates) are remembered until the mirror
changes: a second page costs no COUNT, and a change through the mirror service shows at once."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from snapshots import memo
from snapshots.cloud.dto import SnapshotData
from snapshots.services import audit, mirror
from snapshots.tests.factories_audit import make_snapshot

pytestmark = pytest.mark.django_db

LIST = reverse("snapshots:list")
OVERVIEW = reverse("snapshots:overview")
AUDIT = reverse("snapshots:audit")


def shown(response) -> int:
    """The count the list page says it has."""
    return int(
        re.search(r"<strong>([\d,]+)</strong> snapshot", response.content.decode())[1].replace(
            ",", ""
        )
    )


def rows_of(html: str) -> int:
    """The audit log's row count, from its pagination line."""
    return int(re.search(r"of ([\d,]+), page", html)[1].replace(",", ""))


def counts(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def cloud_snapshot(project_id: str, name: str) -> SnapshotData:
    now = timezone.now()
    return SnapshotData(
        id=str(uuid.uuid4()),
        name=name,
        description="",
        status="available",
        size=1,
        volume_id=str(uuid.uuid4()),
        project_id=project_id,
        created_at=now - timedelta(minutes=1),
        updated_at=now,
    )


@pytest.fixture
def alpha(cloud):
    project = cloud.project_id("alpha")
    for i in range(3):
        make_snapshot(project, name=f"seed-{i}")
    memo.changed()  # rows made behind the mirror service's back
    return project


def test_the_list_counts_once_until_the_mirror_changes(login, alpha):
    client = login("admin")
    with CaptureQueriesContext(connection) as first:
        assert shown(client.get(LIST)) == 3
    audit.record(scope=None, action="sync", outcome="success", message="the audit log moved")
    with CaptureQueriesContext(connection) as second:
        assert shown(client.get(LIST)) == 3
    assert counts(first) and not counts(second)  # an audit event is not a change of the mirror

    mirror.apply(cloud_snapshot(alpha, "from-the-cloud"), source="sync")
    with CaptureQueriesContext(connection) as third:
        assert shown(client.get(LIST)) == 4
    assert counts(third)


def test_the_audit_logs_count_follows_its_own_events(login, alpha):
    client = login("auditor")
    before = client.get(AUDIT).content.decode()
    audit.record(scope=None, action="sync", outcome="success", project_id=alpha, message="one more")
    after = client.get(AUDIT).content.decode()
    assert rows_of(after) == rows_of(before) + 1


def test_a_filtered_count_is_its_own(login, alpha):
    client = login("admin")
    client.get(LIST)
    assert shown(client.get(LIST, {"q": "seed-1"})) == 1


def test_a_member_never_gets_the_admins_count(login, alpha, cloud):
    make_snapshot(cloud.project_id("gamma"), name="not the member's project")
    memo.changed()
    member = login("demo")
    admin = Client()
    admin.post("/auth/login/", {"username": "admin", "password": "secret", "domain": "Default"})
    # Both signed in first (a sign-in is audited, which moves the generation): the two reads
    # below meet the same generation, so only the key keeps them apart.
    assert shown(admin.get(LIST)) == 4
    assert shown(member.get(LIST)) == 3


def test_the_overview_is_remembered_until_the_mirror_changes(login, alpha):
    client = login("admin")
    client.get(OVERVIEW)
    with CaptureQueriesContext(connection) as again:
        client.get(OVERVIEW)
    assert not counts(again)
    mirror.mark_gone(mirror.Snapshot.objects.filter(project_id=alpha).first().pk, source="sync")
    with CaptureQueriesContext(connection) as after:
        client.get(OVERVIEW)
    assert counts(after)


def test_without_a_cache_the_pages_still_answer(login, alpha, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    client = login("admin")
    assert shown(client.get(LIST)) == 3
    assert client.get(OVERVIEW).status_code == 200


def test_requests_arriving_together_compute_once():
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return 42

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: memo.remember(("together",), slow), range(4)))
    assert answers == [42] * 4
    assert len(calls) == 1


def test_a_computation_that_failed_lets_the_next_request_try_at_once(monkeypatch):
    def broken():
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        memo.remember(("flaky",), broken)

    waited = []
    monkeypatch.setattr(memo, "_wait_for", waited.append)
    assert memo.remember(("flaky",), lambda: 7) == 7
    assert not waited, "waited on a claim that nobody holds any more"


def test_a_redis_that_never_answers_costs_a_timeout_not_a_stall(settings):
    """Mirror writes move the generation while they hold locks: a hung Redis must not hold them."""
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        production = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        assert production["OPTIONS"] == _production_cache_options()
        settings.CACHES = {"default": production}  # Django rebuilds its caches on the change
        answers = []
        worker = threading.Thread(
            target=lambda: (memo.changed(), answers.append(memo.remember(("hung",), lambda: 5)))
        )
        worker.start()
        worker.join(timeout=15)
        assert not worker.is_alive(), "a silent Redis stalled the write"
        assert answers == [5]
    finally:
        silent.close()


def _production_cache_options() -> dict:
    """The OPTIONS the settings give the Redis cache when REDIS_URL is set."""
    import os
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.CACHES['default'].get('OPTIONS'))"
    env = {
        **os.environ,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    import ast

    return ast.literal_eval(out.stdout.strip().splitlines()[-1])
