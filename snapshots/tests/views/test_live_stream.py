"""Open tabs told of changes (views/live_stream.py): the dashboard's ASGI application on a real
uvicorn, over HTTP, on a SQLite file of its own that this test writes with the sqlite3 module
(pytest-django's test database lives in memory, which another process cannot open).

A stream with the page's ticket says the stamp at once when the tab's is old, then a new stamp
for each change to a watched row and nothing for other rows; it refuses forged tickets and other
methods, ends after LIVE_STREAM_SECONDS, and every other path is the ordinary dashboard.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from scripts import procs
from snapshots.tests.live_tabs import Tab
from snapshots.views.live import ticket_for

ROOT = Path(__file__).resolve().parents[3]
STREAM = settings.LIVE_STREAM_PATH
SEED = """
import django
django.setup()
from django.utils import timezone
from snapshots.models import Snapshot
Snapshot.objects.bulk_create(
    Snapshot(id=f"snap-{i}", name=f"watched {i}", project_id="p1", volume_id="v1",
             status="creating", created_at=timezone.now())
    for i in range(4)
)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live-stream")
    db = tmp / "mirror.sqlite3"
    port = procs.free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "DASHBOARD_VAR_DIR": str(tmp),
        "SECRET_KEY": settings.SECRET_KEY,  # the tickets this test signs
        "DASHBOARD_AUTH": "local",
        "OS_CLOUD": "",
        "CINDER_NOAUTH_ENDPOINT": "",
        "KEYSTONE_URL": "",
        "DEBUG": "1",  # static files from the tree, as `make run` serves them (no collectstatic)
        "ALLOWED_HOSTS": "127.0.0.1",
        "LIVE_STREAM_SECONDS": "4",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True, timeout=180)  # fmt: skip
    subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, timeout=60)
    cmd = [sys.executable, "-m", "uvicorn", "dashboard.asgi:application", "--host", "127.0.0.1",
           "--port", str(port), "--timeout-graceful-shutdown", "2"]  # fmt: skip
    with procs.start("uvicorn", cmd, env=env, cwd=ROOT) as proc:
        proc.wait_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}", db, proc


def change(db: Path, snapshot_id: str) -> None:
    """A change to a row as the workers record it: its version grows."""
    with sqlite3.connect(db, timeout=10) as conn:
        conn.execute("UPDATE snapshots_snapshot SET version = version + 1 WHERE id = ?",
                     (snapshot_id,))  # fmt: skip


def test_a_tab_is_told_its_stamp_then_each_change_to_its_rows_and_nothing_else(server):
    url, db, _ = server
    tab = Tab(url + STREAM, ticket_for(["snap-0", "snap-1"]))
    try:
        assert tab.answer.status_code == 200
        assert tab.answer.headers["Content-Type"] == "text/event-stream"
        assert tab.answer.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in tab.answer.headers["Content-Security-Policy"]
        first = tab.wait(1)
        assert (
            first and first[0] >= 2
        )  # two rows at version 1 at least (an earlier test grows them)
        change(db, "snap-3")  # a row this tab does not watch
        change(db, "snap-1")
        stamps = tab.wait(2)
        assert stamps == [first[0], first[0] + 1]
        time.sleep(1.0)  # several reads of the hub later: the unwatched change told nothing
        assert tab.stamps == stamps
        assert "open" in tab.comments
    finally:
        tab.close()


def test_a_tab_whose_stamp_is_current_hears_nothing_until_a_change(server):
    url, db, _ = server
    first = Tab(url + STREAM, ticket_for(["snap-2"]))
    current = first.wait(1)[0]
    first.close()
    tab = Tab(url + STREAM, ticket_for(["snap-2"]), stamp=str(current))
    try:
        time.sleep(1.0)
        assert tab.stamps == []
        change(db, "snap-2")
        assert tab.wait(1) == [current + 1]
    finally:
        tab.close()


def test_many_tabs_on_one_row_are_each_told_once(server):
    url, db, _ = server
    tabs = [Tab(url + STREAM, ticket_for(["snap-0"])) for _ in range(20)]
    try:
        before = [tab.wait(1)[0] for tab in tabs]
        assert len(set(before)) == 1
        change(db, "snap-0")
        for tab in tabs:
            assert tab.wait(2) == [before[0], before[0] + 1]
    finally:
        for tab in tabs:
            tab.close()


def test_a_stream_ends_after_its_time_so_the_tab_reconnects_with_a_fresh_ticket_check(server):
    url, _, _ = server
    tab = Tab(url + STREAM, ticket_for(["snap-0"]))
    try:
        assert tab.ended.wait(15), "the stream did not end after LIVE_STREAM_SECONDS"
        assert tab.stamps  # it was told its stamp before it ended
    finally:
        tab.close()


def test_forged_missing_or_query_string_tickets_and_other_methods_are_refused(server):
    url, _, _ = server
    ticket = ticket_for(["snap-0"])
    stream = f"{url}{STREAM}"
    assert requests.get(stream, headers={"X-Live-Ticket": ticket[:-2] + "xx"}, timeout=5
                        ).status_code == 403  # fmt: skip
    assert requests.get(stream, timeout=5).status_code == 403
    assert requests.get(stream, params={"ticket": ticket}, timeout=5).status_code == 403
    refused = requests.post(stream, headers={"X-Live-Ticket": ticket}, timeout=5)
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET"


def test_every_other_path_is_the_dashboard_itself(server):
    url, _, proc = server
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
    login = requests.get(f"{url}/auth/login/", timeout=10)
    assert login.status_code == 200 and "csrfmiddlewaretoken" in login.text
    assert requests.get(f"{url}/snapshots/", timeout=10, allow_redirects=False).status_code == 302
    assert "lifespan" not in proc.output(), "the server's lifespan messages are answered"
