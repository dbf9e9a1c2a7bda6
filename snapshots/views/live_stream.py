"""Open tabs told of changes instead of asking: a server-sent event stream per tab, on an async
server (dashboard/asgi.py, served by uvicorn; compose's `live` service behind the proxy).

The tab opens LIVE_STREAM_PATH with its page's live ticket in the X-Live-Ticket header (never in
the URL) and the last stamp it knows in `v`, the same pair the cheap check takes (views/live.py).
The answer is `text/event-stream`: an event `data: <stamp>` whenever the rows it watches change
(at once when the stamp it has is already old), a comment every KEEPALIVE seconds so proxies keep
the connection, and the end after LIVE_STREAM_SECONDS, when the tab reconnects with its stamp
(its ticket is checked again then). A held stream costs nothing while nothing changes: one
reader per process serves every stream (selectors/live_hub.py).

A server that cannot hold streams (the WSGI servers: `make run`'s threaded runserver, gunicorn's
threads) answers this path 204 at once and the tab falls back to the cheap checks. Nothing here
calls Cinder, reads a session or tells anything but a number about rows the user was shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from django.conf import settings

from snapshots.selectors.live_hub import hub
from snapshots.views.live import HEADERS, ids_of

log = logging.getLogger(__name__)

KEEPALIVE = 15.0  # seconds between comments on a quiet stream

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def _headers(extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    from snapshots.middleware_headers import policy_header

    merged = {
        **HEADERS,
        "Content-Security-Policy": policy_header(),
        "Referrer-Policy": settings.SECURE_REFERRER_POLICY or "same-origin",
        **extra,
    }
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in merged.items()]


async def _answer(send: Send, status: int, extra: dict[str, str] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": _headers({"Content-Length": "0", **(extra or {})})})  # fmt: skip
    await send({"type": "http.response.body", "body": b""})


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] != "GET":
        return await _answer(send, 405, {"Allow": "GET"})
    ticket = dict(scope["headers"]).get(b"x-live-ticket", b"").decode("latin-1")
    ids = ids_of(ticket)
    if ids is None:
        return await _answer(send, 403)
    if len(hub.watchers) >= settings.LIVE_STREAMS_MAX:
        return await _answer(send, 503, {"Retry-After": "30"})
    asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
    watcher = hub.join(ids, asked)

    async def until_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        watcher.close()

    gone = asyncio.get_running_loop().create_task(until_gone())
    loop = asyncio.get_running_loop()
    ends = loop.time() + settings.LIVE_STREAM_SECONDS
    try:
        await send({"type": "http.response.start", "status": 200, "headers": _headers({
            "Content-Type": "text/event-stream", "X-Accel-Buffering": "no"})})  # fmt: skip
        await send({"type": "http.response.body", "body": b": open\n\n", "more_body": True})
        while not watcher.closed and (left := ends - loop.time()) > 0:
            try:
                await asyncio.wait_for(watcher.wake.wait(), timeout=min(KEEPALIVE, left))
            except TimeoutError:
                chunk = b": keep-alive\n\n"
            else:
                watcher.wake.clear()
                if watcher.closed:
                    break
                chunk = f"data: {watcher.known}\n\n".encode()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except OSError:
        pass  # the tab went away while a chunk was on its way
    finally:
        gone.cancel()
        hub.leave(watcher)


class LiveStreamApp:
    """Serves LIVE_STREAM_PATH itself and hands every other request to Django's ASGI handler;
    also answers the server's lifespan messages (Django's handler takes HTTP only), ending
    every stream when the server stops."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.path = settings.LIVE_STREAM_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        if scope["type"] == "http" and scope["path"] == self.path:
            return await stream(scope, receive, send)
        return await self.app(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                hub.close_all()
                await send({"type": "lifespan.shutdown.complete"})
                return
