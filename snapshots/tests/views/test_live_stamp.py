"""The cheap change check (views/live.py): a page's signed ticket, 204 while nothing watched
changed, the new stamp when something did, one query and no session work, and no way to ask
about rows the page did not show."""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from snapshots.selectors.live_stamps import shared_stamps
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


class Clock:
    """The shared read's clock, moved by hand: a test says when a period has passed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def next_period(self) -> None:
        self.now += settings.LIVE_STAMP_REFRESH_SECONDS


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Each test starts with an empty shared read and no trusted tickets."""
    fake = Clock()
    shared_stamps.clear()
    monkeypatch.setattr(shared_stamps, "clock", fake)
    monkeypatch.setattr(live, "_trusted", {})
    monkeypatch.setattr(live, "_trusted_ids", 0)
    yield fake
    shared_stamps.clear()


@pytest.fixture
def creating(projects):
    return [
        make_snapshot(projects["alpha"], status="creating", progress=10, name=f"c{i}")
        for i in range(3)
    ]


def test_the_list_signs_its_transitional_rows_and_the_check_answers_204_until_one_changes(
    login, creating, client, clock
):
    page = login("demo").get("/snapshots/")
    ticket = ticket_in(page)
    assert sorted(live.ids_of(ticket)) == sorted(s.pk for s in creating)

    with CaptureQueriesContext(connection) as queries:
        first = check(client, ticket)  # rows this process never read: read before answering
    assert first.status_code == 200 and "no-store" in first["Cache-Control"]
    assert first["X-Content-Type-Options"] == "nosniff" and first["Content-Security-Policy"]
    assert len(queries) == 1 and "django_session" not in queries[0]["sql"]
    stamp = first.content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = check(client, ticket, stamp)
    assert again.status_code == 204 and again.content == b""
    assert len(queries) == 0  # the shared read answers until the period is over

    observe(creating[1], progress=60)
    clock.next_period()
    with CaptureQueriesContext(connection) as queries:
        changed = check(client, ticket, stamp)
    assert changed.status_code == 200 and int(changed.content) > int(stamp)
    assert len(queries) == 1 and "django_session" not in queries[0]["sql"]
    stamp = changed.content.decode()
    mirror.mark_gone(creating[2].pk, source="track")  # leaving Cinder moves the stamp too
    clock.next_period()
    assert check(client, ticket, stamp).status_code == 200


def test_a_change_shows_within_one_period_and_not_before_its_read(
    client, creating, clock, settings
):
    settings.LIVE_STAMP_REFRESH_SECONDS = 0.25  # sums of binary fractions are exact
    ticket = live.ticket_for([s.pk for s in creating])
    stamp = check(client, ticket).content.decode()
    observe(creating[0], status="available", progress=100)
    assert check(client, ticket, stamp).status_code == 204  # read before the change
    clock.now += 0.1875
    assert check(client, ticket, stamp).status_code == 204
    clock.now += 0.0625
    changed = check(client, ticket, stamp)
    assert changed.status_code == 200 and int(changed.content) == int(stamp) + 1


def test_many_tabs_share_one_read_per_period(client, projects, clock):
    rows = [make_snapshot(projects["alpha"], status="creating", history=False) for _ in range(30)]
    tickets = [live.ticket_for(r.pk for r in rows[i : i + 10]) for i in range(0, 30, 3)]
    stamps = {t: check(client, t).content.decode() for t in tickets}
    observe(rows[12], progress=50)
    clock.next_period()
    with CaptureQueriesContext(connection) as queries:
        answers = {t: check(client, t, stamps[t]).status_code for t in tickets}
    assert len(queries) == 1  # one read for every tab of the process
    watching = {t for t in tickets if rows[12].pk in live.ids_of(t)}
    assert watching and {t for t, code in answers.items() if code == 200} == watching


def test_a_tab_is_never_sent_back_to_an_older_stamp(client, creating, clock):
    """A tab behind a proxy may ask another process whose read is older than the tab's last
    answer: that process has nothing newer to say."""
    ticket = live.ticket_for([s.pk for s in creating])
    stamp = int(check(client, ticket).content)
    assert check(client, ticket, str(stamp + 5)).status_code == 204
    assert check(client, ticket, "not-a-number").status_code == 200


def test_without_a_shared_read_every_check_reads_its_rows(client, creating, settings):
    settings.LIVE_STAMP_REFRESH_SECONDS = 0
    ticket = live.ticket_for([s.pk for s in creating])
    stamp = check(client, ticket).content.decode()
    observe(creating[0], progress=70)
    with CaptureQueriesContext(connection) as queries:
        assert check(client, ticket, stamp).status_code == 200
    assert len(queries) == 1


def test_a_trusted_ticket_is_checked_again_and_a_tampered_one_never_trusted(
    client, creating, settings, monkeypatch
):
    ticket = live.ticket_for([s.pk for s in creating])
    assert check(client, ticket).status_code == 200
    assert check(client, ticket[:-2] + "xx").status_code == 403  # its neighbour is not trusted
    settings.SESSION_COOKIE_AGE = -1  # from now on every ticket is too old
    assert check(client, ticket).status_code == 200  # trusted a moment ago
    monkeypatch.setattr(live, "TRUSTED_FOR", 0)
    assert check(client, ticket).status_code == 403


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


def test_the_wsgi_entry_answers_the_same_before_django_and_passes_the_rest_on(creating, clock):
    from dashboard.wsgi import application

    ticket = live.ticket_for([s.pk for s in creating])
    answered: list[str] = []
    sent: list[dict[str, str]] = []

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        answered.append(status)
        sent.append(dict(headers))

    def call(path: str, method: str = "GET", query: str = "", ticket: str = ticket) -> bytes:
        environ = {
            "PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": query,
            "HTTP_X_LIVE_TICKET": ticket,
        }  # fmt: skip
        return b"".join(application(environ, start))

    assert isinstance(application, live.LiveStampApp)
    current = call(STAMP).decode()
    assert answered[-1] == "200 OK" and int(current) == live.stamp([s.pk for s in creating])
    assert call(STAMP, query=f"v={current}") == b"" and answered[-1] == "204 No Content"
    observe(creating[0], progress=70)
    clock.next_period()
    assert call(STAMP, query=f"v={current}") != b"" and answered[-1] == "200 OK"
    assert sent[-1]["Content-Type"] == "text/plain"
    assert call(STAMP, ticket="forged") == b"" and answered[-1] == "403 Forbidden"
    assert call(STAMP, method="POST") == b"" and answered[-1] == "405 Method Not Allowed"
    for headers in sent:  # what the middleware gives every other answer
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"
    # A WSGI server holds no streams: the stream's path is refused at once, and the tab checks.
    assert call(settings.LIVE_STREAM_PATH) == b"" and answered[-1] == "204 No Content"
    passed = []
    wrapper = live.LiveStampApp(lambda environ, start: passed.append(environ["PATH_INFO"]) or [])
    wrapper({"PATH_INFO": "/snapshots/"}, lambda *a: None)
    assert passed == ["/snapshots/"]


def test_where_django_is_called_directly_the_stream_path_is_refused_before_sessions(
    client, creating, django_assert_num_queries
):
    with django_assert_num_queries(0):  # no session, no user: answered ahead of both
        answer = client.get(settings.LIVE_STREAM_PATH, HTTP_X_LIVE_TICKET=live.ticket_for(["x"]))
    assert answer.status_code == 204
    assert answer["Cache-Control"] == "no-store"
    assert not answer.content


def test_trusted_tickets_are_bounded(creating, monkeypatch):
    monkeypatch.setattr(live, "TRUSTED_IDS", 4)
    first = live.ticket_for([s.pk for s in creating])
    second = live.ticket_for([s.pk for s in creating[:2]])
    assert live.ids_of(first) and live.ids_of(second)
    assert list(live._trusted) == [second]  # three and two ids: the first made room
