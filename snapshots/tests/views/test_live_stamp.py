"""The cheap change check (views/live.py): a page's signed ticket, 204 while nothing watched
changed, the new stamp when something did, one query and no session work, and no way to ask
about rows the page did not show."""

from __future__ import annotations

import html
import re

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from snapshots.services import mirror
from snapshots.tests.factories import make_snapshot
from snapshots.tests.views.browse_helpers import projects_fixture  # noqa: F401 (fixtures)
from snapshots.tests.views.test_live import observe
from snapshots.views import live

pytestmark = pytest.mark.django_db

STAMP = "/snapshots/live/stamp"


def ticket_in(page) -> str:
    found = re.search(r'id="live-poller" hidden data-live-ticket="([^"]+)"', page.content.decode())
    assert found, "the poller carries a ticket"
    return html.unescape(found.group(1))


def check(client, ticket: str, stamp: str = ""):
    return client.get(STAMP, {"v": stamp}, HTTP_X_LIVE_TICKET=ticket)


@pytest.fixture
def creating(projects):
    return [
        make_snapshot(projects["alpha"], status="creating", progress=10, name=f"c{i}")
        for i in range(3)
    ]


def test_the_list_signs_its_transitional_rows_and_the_check_answers_204_until_one_changes(
    login, creating, client
):
    page = login("demo").get("/snapshots/")
    ticket = ticket_in(page)
    assert sorted(live.ids_of(ticket)) == sorted(s.pk for s in creating)

    first = check(client, ticket)
    assert first.status_code == 200 and "no-store" in first["Cache-Control"]
    stamp = first.content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = check(client, ticket, stamp)
    assert again.status_code == 204 and again.content == b""
    assert len(queries) == 1 and "django_session" not in queries[0]["sql"]

    observe(creating[1], progress=60)
    changed = check(client, ticket, stamp)
    assert changed.status_code == 200 and int(changed.content) > int(stamp)
    stamp = changed.content.decode()
    mirror.mark_gone(creating[2].pk, source="track")  # leaving Cinder moves the stamp too
    assert check(client, ticket, stamp).status_code == 200


def test_no_ticket_a_forged_one_or_a_post_gets_nothing(client, creating):
    assert check(client, "").status_code == 403
    forged = signing.dumps([creating[0].pk], salt="something-else")
    assert check(client, forged).status_code == 403
    tampered = live.ticket_for([creating[0].pk])[:-2] + "xx"
    assert check(client, tampered).status_code == 403
    assert client.post(STAMP, HTTP_X_LIVE_TICKET=live.ticket_for(["x"])).status_code == 405


def test_a_page_without_transitional_rows_has_no_ticket(login, projects):
    make_snapshot(projects["alpha"], status="available", name="settled")
    page = login("demo").get("/snapshots/")
    assert "data-live-ticket" not in page.content.decode()


def test_a_member_gets_no_ticket_for_another_projects_rows(login, projects):
    make_snapshot(projects["beta"], status="creating", name="elsewhere")
    mine = make_snapshot(projects["alpha"], status="creating", name="mine")
    page = login("demo").get("/snapshots/")
    assert live.ids_of(ticket_in(page)) == [mine.pk]


def test_the_detail_page_signs_its_snapshot(login, creating):
    page = login("demo").get(f"/snapshots/{creating[0].pk}/")
    pattern = r'id="detail-poller" hidden data-live-ticket="([^"]+)"'
    found = re.search(pattern, page.content.decode())
    assert found and live.ids_of(html.unescape(found.group(1))) == [creating[0].pk]


def test_the_wsgi_entry_answers_the_same_before_django_and_passes_the_rest_on(creating):
    from dashboard.wsgi import application

    ticket = live.ticket_for([s.pk for s in creating])
    answered: list[str] = []

    def call(path: str, method: str = "GET", query: str = "", ticket: str = ticket) -> bytes:
        environ = {
            "PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": query,
            "HTTP_X_LIVE_TICKET": ticket,
        }  # fmt: skip
        body = application(environ, lambda status, headers: answered.append(status))
        return b"".join(body)

    assert isinstance(application, live.LiveStampApp)
    current = call(STAMP).decode()
    assert answered[-1] == "200 OK" and int(current) == live.stamp([s.pk for s in creating])
    assert call(STAMP, query=f"v={current}") == b"" and answered[-1] == "204 No Content"
    observe(creating[0], progress=70)
    assert call(STAMP, query=f"v={current}") != b"" and answered[-1] == "200 OK"
    assert call(STAMP, ticket="forged") == b"" and answered[-1] == "403 Forbidden"
    assert call(STAMP, method="POST") == b"" and answered[-1] == "405 Method Not Allowed"
    passed = []
    wrapper = live.LiveStampApp(lambda environ, start: passed.append(environ["PATH_INFO"]) or [])
    wrapper({"PATH_INFO": "/snapshots/"}, lambda *a: None)
    assert passed == ["/snapshots/"]
