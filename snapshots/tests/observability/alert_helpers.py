"""A local HTTP server that receives webhooks (or refuses them), and rule helpers."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from snapshots.models import AlertRule, Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(Received(dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def make_rule(kind: str, *, threshold: float = 0, webhook_url: str = "", **kw) -> AlertRule:
    rule = AlertRule.objects.create(
        name=kw.pop("name", f"{kind} rule"), kind=kind, threshold=threshold, **kw
    )
    if webhook_url:
        hook = Webhook.objects.create(name=f"hook {rule.id}", url=webhook_url, secret="s3cret")
        rule.webhooks.add(hook)
    return rule
