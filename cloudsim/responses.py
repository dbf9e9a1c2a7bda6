"""JSON responses and route names shared by the Keystone, Cinder and control endpoints."""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response


def template_of(rule: Rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    data = b"" if body is None else json.dumps(body).encode()
    resp = Response(data, status=status, headers=headers or {})
    if body is not None:
        resp.content_type = "application/json"
    else:
        resp.headers.pop("Content-Type", None)
        resp.headers["Content-Length"] = "0"
    return resp
