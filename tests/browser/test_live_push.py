"""Open tabs told of changes (a server-sent event stream on uvicorn) and, where the server holds
no streams (make run's threaded server), tabs that check instead: the same page either way.

Both servers are the stack's own (scripts/stack.py --live-port): one database, one worker.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_browse import (
    LIVE,
    _cinder,
    _creating_elsewhere,
    _visibility,
    _wait_for_rows,
)

STREAM = "/snapshots/live-stream"
CHECK = "/snapshots/live/stamp"
ROWS = "/snapshots/live/?"


@pytest.fixture
def live_page(browser, stack):
    """A tab on the uvicorn-served dashboard, with the site's Content-Security-Policy in force
    (the stream is a fetch to the page's own origin: connect-src 'self')."""
    context = browser.new_context(base_url=stack.live_url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


class Traffic:
    """What the tab asked for: streams opened (with their answers' codes), checks, row fetches."""

    def __init__(self, page) -> None:
        self.streams: list[int] = []
        self.checks: list[str] = []
        self.rows: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)

    def _request(self, request) -> None:
        if CHECK in request.url:
            self.checks.append(request.url)
        elif ROWS in request.url:
            self.rows.append(request.url)

    def _response(self, response) -> None:
        if STREAM in response.url:
            self.streams.append(response.status)


def watching(page, sign_in, stack, prefix: str):
    """A snapshot made elsewhere, still creating, on the tab's list: its id, row and traffic."""
    name, sid = _creating_elsewhere(stack, prefix)
    sign_in(page, "demo")
    traffic = Traffic(page)
    _wait_for_rows(page, f"/snapshots/?q={name}", name)
    row = page.locator(f"#row-{sid}")
    expect(row.locator(".status-badge")).to_have_text("Creating")
    return sid, row, traffic


def made_available(stack, sid: str) -> None:
    _cinder(stack, "POST", f"/snapshots/{sid}/action", {"os-reset_status": {"status": "available"}})


def test_on_the_async_server_a_tab_is_told_of_a_change_and_never_checks(live_page, sign_in, stack):
    page = live_page
    sid, row, traffic = watching(page, sign_in, stack, "told")
    page.evaluate("window.__sameDocument = true")
    made_available(stack, sid)
    expect(row.locator(".status-badge")).to_have_text("Available", timeout=LIVE)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert traffic.streams and set(traffic.streams) == {200}  # told over the stream
    assert traffic.checks == []  # and never asked
    assert any(f"row={sid}" in url for url in traffic.rows)  # the row came when told


def test_a_hidden_tab_holds_no_stream_and_catches_up_when_shown(live_page, sign_in, stack):
    page = live_page
    sid, row, traffic = watching(page, sign_in, stack, "hidden-told")
    page.wait_for_timeout(1000)
    opened = len(traffic.streams)
    assert opened  # a visible tab listens

    _visibility(page, "hidden")
    made_available(stack, sid)
    page.wait_for_timeout(4000)
    expect(row.locator(".status-badge")).to_have_text("Creating")  # hidden: told nothing
    assert len(traffic.streams) == opened  # and opened no stream

    _visibility(page, "visible")
    expect(row.locator(".status-badge")).to_have_text("Available", timeout=LIVE)
    assert len(traffic.streams) > opened  # shown: listening again, and caught up at once
    assert traffic.checks == []


def test_where_no_stream_is_served_the_tab_checks_instead(page, sign_in, stack):
    sid, row, traffic = watching(page, sign_in, stack, "checks")
    page.wait_for_timeout(1500)
    assert traffic.streams and set(traffic.streams) == {204}  # make run's server: no streams
    assert traffic.checks  # so the tab asks
    asked = len(traffic.streams)
    made_available(stack, sid)
    expect(row.locator(".status-badge")).to_have_text("Available", timeout=LIVE)
    assert len(traffic.streams) == asked  # one try per page, not one per check
