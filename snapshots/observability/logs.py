"""Logs a machine can read: LOG_FORMAT=json writes one JSON object per line, carrying the
request id, the user, the project and the Celery task id of the line's context.

The context lives in context variables: RequestIdMiddleware sets the request id first thing
(and returns it in the X-Request-ID header), the user and project once the scope is known (its
`process_view` runs after ScopeMiddleware), and Celery's task_prerun sets the task id. Every
line still passes snapshots.logging_filters.RedactSecrets; the formatter also redacts exception
text, where a token can hide in a traceback.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from snapshots.logging_filters import redact

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it looks like one (a proxy's); anything else is replaced.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
user: contextvars.ContextVar[str] = contextvars.ContextVar("log_user", default="")
project: contextvars.ContextVar[str] = contextvars.ContextVar("log_project", default="")
task_id: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")

_CONTEXT = {"request_id": request_id, "user": user, "project": project, "task_id": task_id}


class ContextFilter(logging.Filter):
    """Copies the context variables onto every record (for any formatter to use)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT.items():
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, var in _CONTEXT.items():
            value = getattr(record, name, None) or var.get()
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _clear(*_: Any, **__: Any) -> None:
    for var in _CONTEXT.values():
        var.set("")


class RequestIdMiddleware:
    """First in the chain: an id per request, in the logs' context and the response header."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        _clear()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request_id.set(rid)
        request.request_id = rid
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        scope = getattr(request, "dashboard_scope", None)
        if scope is not None:
            user.set(scope.username)
            project.set(scope.project_id)
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            user.set(request.user.get_username())
        return None


def connect_celery_signals() -> None:
    """The task id of the running task in every line it logs (called from dashboard/celery.py)."""
    from celery.signals import task_postrun, task_prerun

    def on_prerun(**kwargs: Any) -> None:
        _clear()
        task_id.set(kwargs.get("task_id") or "")

    task_prerun.connect(on_prerun, weak=False)
    task_postrun.connect(_clear, weak=False)
