"""The cheap half of live updates: "has anything I watch changed?", answered in a fraction of
a millisecond of the web tier's time and no query of its own (every check a process answers
shares one read of the watched rows per LIVE_STAMP_REFRESH_SECONDS, selectors/live_stamps.py),
so two hundred tabs may ask twice a second.

A page with transitional rows carries a *live ticket*: the ids of those rows (which the page's
own permission check already showed to this user), signed with the secret key and dated. The
tab sends it in a header (never in the URL, so it stays out of access logs) to LIVE_STAMP_PATH
with the last stamp it knows; the stamp is the sum of the rows' `version` counters, which only
grow (a row that leaves Cinder grows too). The tab's stamp or a newer one: 204 and nothing else
(a process whose read is older than the tab's last answer, from another process, has nothing
newer to say). A newer stamp: 200 with it, and the tab asks the ordinary live view (sessions,
permissions, rendering) for the changed rows. The check runs ahead of Django's request handling
(a WSGI wrapper in dashboard/wsgi.py; a middleware ahead of sessions and authentication where
Django is called directly): the ticket is the proof of what may be asked, and it tells nothing
but a number about rows this user was shown. Nothing here calls Cinder.

Where an async server holds the page, the tab is told instead of asking (views/live_stream.py);
the WSGI paths here answer that stream's path 204 (nothing to stream here) at once, and the tab
checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from snapshots.selectors.live_stamps import shared_stamps

SALT = "snapshots.live-ticket"
HEADER = "HTTP_X_LIVE_TICKET"
MAX_IDS = 500


def ticket_for(ids: Iterable[str]) -> str:
    """A signed, dated ticket for these snapshot ids ("" when there is nothing to watch)."""
    ids = sorted(set(ids))[:MAX_IDS]
    if not ids:
        return ""
    return signing.dumps(ids, salt=SALT, compress=True)


# Tickets whose signature checked out lately, with when that was: a tab sends the same ticket
# twice a second, and checking the signature again costs more than the rest of the answer. A
# forged ticket is never kept; a kept one is checked again after TRUSTED_FOR seconds, so one
# past its age is refused at most that much late.
TRUSTED_FOR = 60.0
TRUSTED_IDS = 100_000  # ids kept over all tickets at most: a few megabytes
_trusted: dict[str, tuple[float, list[str]]] = {}
_trusted_ids = 0


def ids_of(ticket: str) -> list[str] | None:
    """The ids a ticket grants, or None when it is forged, damaged or too old."""
    now = time.monotonic()
    kept = _trusted.get(ticket)
    if kept is not None and now - kept[0] < TRUSTED_FOR:
        return kept[1]
    try:
        ids = signing.loads(ticket, salt=SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return None
    ids = ids[:MAX_IDS]
    global _trusted_ids
    if _trusted_ids + len(ids) > TRUSTED_IDS:
        _trusted.clear()  # many tabs came and went: start again rather than track ages
        _trusted_ids = 0
    _trusted[ticket] = (now, ids)
    _trusted_ids += len(ids)
    return ids


def stamp(ids: list[str]) -> int:
    """The sum of the rows' versions, from the process's shared read of the watched rows."""
    return shared_stamps.stamp(ids)


def is_news(current: int, asked: str) -> bool:
    """Whether `current` is newer than the stamp the tab has (any stamp, for a tab with none)."""
    try:
        return current > int(asked)
    except ValueError:
        return True


HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def stamp_response(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    ids = ids_of(request.META.get(HEADER, ""))
    if ids is None:
        return HttpResponse(status=403)
    current = stamp(ids)
    if not is_news(current, request.GET.get("v", "")):
        return HttpResponse(status=204, headers=HEADERS)
    return HttpResponse(str(current), content_type="text/plain", headers=HEADERS)


class LiveStampApp:
    """The same answer as a WSGI wrapper around Django (dashboard/wsgi.py): no request object,
    no middleware, and the process's shared read of the watched rows (on the reading thread's
    kept connection). Two hundred tabs asking twice a second must cost the web tier little."""

    def __init__(self, app: Callable) -> None:
        from snapshots.middleware_headers import policy_header

        self.app = app
        self.path = settings.LIVE_STAMP_PATH
        # What the middleware would have added to these answers (the fast path skips it).
        self.headers = [
            *HEADERS.items(),
            ("Content-Security-Policy", policy_header()),
            ("Referrer-Policy", settings.SECURE_REFERRER_POLICY),
        ]

    def __call__(self, environ: dict, start_response: Callable):
        path = environ.get("PATH_INFO")
        if path != self.path and path != settings.LIVE_STREAM_PATH:
            return self.app(environ, start_response)
        from urllib.parse import parse_qs

        from django.db import close_old_connections

        def answer(status: str, body: bytes = b"") -> list[bytes]:
            headers = [*self.headers, ("Content-Length", str(len(body)))]
            if body:
                headers.append(("Content-Type", "text/plain"))
            start_response(status, headers)
            return [body]

        if path == settings.LIVE_STREAM_PATH:
            return answer("204 No Content")  # no streams here (the async server holds them)
        if environ.get("REQUEST_METHOD") != "GET":
            return answer("405 Method Not Allowed")
        ids = ids_of(environ.get(HEADER, ""))
        if ids is None:
            return answer("403 Forbidden")
        try:
            current = stamp(ids)
        except Exception:
            close_old_connections()  # a broken connection is replaced on the next check
            raise
        asked = parse_qs(environ.get("QUERY_STRING", "")).get("v", [""])[0]
        if not is_news(current, asked):
            return answer("204 No Content")
        return answer("200 OK", str(current).encode())


class LiveStampMiddleware:
    """Answers LIVE_STAMP_PATH before the session and authentication middleware run."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = settings.LIVE_STAMP_PATH

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.path:
            return stamp_response(request)
        if request.path_info == settings.LIVE_STREAM_PATH:  # no streams on a WSGI server
            return HttpResponse(status=204, headers=HEADERS)
        return self.get_response(request)
