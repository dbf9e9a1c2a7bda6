"""The cheap half of live updates: "has anything I watch changed?", answered in well under a
millisecond of the web tier's time and one indexed query, so a tab can ask twice a second.

A page with transitional rows carries a *live ticket*: the ids of those rows (which the page's
own permission check already showed to this user), signed with the secret key and dated. The
tab sends it in a header (never in the URL, so it stays out of access logs) to LIVE_STAMP_PATH
with the last stamp it knows; the stamp is the sum of the rows' `version` counters, which only
grow (a row that leaves Cinder grows too). Same stamp: 204 and nothing else. Another stamp: 200
with the new one, and the tab asks the ordinary live view (sessions, permissions, rendering) for
the changed rows. The check runs ahead of Django's request handling (a WSGI wrapper in
dashboard/wsgi.py; a middleware ahead of sessions and authentication where Django is called
directly): the ticket is the proof of what may be asked, and it tells nothing but a number about
rows this user was shown. Nothing here calls Cinder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core import signing
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse

from snapshots.models import Snapshot

SALT = "snapshots.live-ticket"
HEADER = "HTTP_X_LIVE_TICKET"
MAX_IDS = 500


def ticket_for(ids: Iterable[str]) -> str:
    """A signed, dated ticket for these snapshot ids ("" when there is nothing to watch)."""
    ids = sorted(set(ids))[:MAX_IDS]
    if not ids:
        return ""
    return signing.dumps(ids, salt=SALT, compress=True)


def ids_of(ticket: str) -> list[str] | None:
    """The ids a ticket grants, or None when it is forged, damaged or too old."""
    try:
        ids = signing.loads(ticket, salt=SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return None
    return ids[:MAX_IDS]


def stamp(ids: list[str]) -> int:
    """One query over the primary key: the sum of the rows' versions."""
    return Snapshot.objects.filter(pk__in=ids).aggregate(total=Sum("version"))["total"] or 0


def stamp_response(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    ids = ids_of(request.META.get(HEADER, ""))
    if ids is None:
        return HttpResponse(status=403)
    current = stamp(ids)
    headers = {"Cache-Control": "no-store"}
    if request.GET.get("v") == str(current):
        return HttpResponse(status=204, headers=headers)
    return HttpResponse(str(current), content_type="text/plain", headers=headers)


class LiveStampApp:
    """The same answer as a WSGI wrapper around Django (dashboard/wsgi.py): no request object,
    no middleware, one query on the thread's kept connection. Two hundred tabs asking twice a
    second must cost the web tier little."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.path = settings.LIVE_STAMP_PATH

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        from urllib.parse import parse_qs

        from django.db import close_old_connections

        def answer(status: str, body: bytes = b"") -> list[bytes]:
            headers = [("Cache-Control", "no-store"), ("Content-Length", str(len(body)))]
            if body:
                headers.append(("Content-Type", "text/plain"))
            start_response(status, headers)
            return [body]

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
        if asked == str(current):
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
        return self.get_response(request)
