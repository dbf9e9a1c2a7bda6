"""Prometheus instruments of the processes (counters, histograms) and their recording helpers.

Under gunicorn and Celery's prefork pool every process counts on its own; with
PROMETHEUS_MULTIPROC_DIR set (settings.py exports it before prometheus_client is imported),
prometheus_client writes each process's values to files in that directory and the scrape adds
them up (metrics_view.py). Gauges of the mirror are not here: they are computed at scrape time
from the database (collector.py), so they are the same whichever process answers.

Labels are bounded: endpoint names are Gateway method names, outcomes are the project's error
classes, tasks are task names, actions and outcomes come from fixed choices. No snapshot id,
project id or user ever becomes a label here.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram, disable_created_metrics

PREFIX = "snapshot_dashboard"
# `_created` series double the output and mean nothing under multiprocess mode.
disable_created_metrics()

CLOUD_REQUESTS = Counter(
    f"{PREFIX}_cloud_requests",
    "Calls to the cloud through the gateway, by gateway endpoint and outcome.",
    ["endpoint", "outcome"],
)
CLOUD_REQUEST_SECONDS = Histogram(
    f"{PREFIX}_cloud_request_duration_seconds",
    "Time the gateway's calls to the cloud took, by gateway endpoint.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TASK_SECONDS = Histogram(
    f"{PREFIX}_task_duration_seconds",
    "Time Celery tasks ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
TASK_FAILURES = Counter(
    f"{PREFIX}_task_failures",
    "Celery tasks that raised, by task.",
    ["task"],
)
AUDIT_EVENTS = Counter(
    f"{PREFIX}_audit_events",
    "Audit events written, by action and outcome.",
    ["action", "outcome"],
)
REFUSED_ACTIONS = Counter(
    f"{PREFIX}_refused_actions",
    "Actions refused by the dashboard (denied) or by Cinder (refused), by action.",
    ["action", "refused_by"],
)

_REFUSED_BY = {"denied": "dashboard", "refused": "cinder"}
_SAFE_LABEL = re.compile(r"[^a-z0-9_]+")


def _label(value: str) -> str:
    return _SAFE_LABEL.sub("_", (value or "unknown").lower())[:64]


def audit_event_written(action: str, outcome: str) -> None:
    AUDIT_EVENTS.labels(action=_label(action), outcome=_label(outcome)).inc()
    refused_by = _REFUSED_BY.get(outcome)
    if refused_by:
        REFUSED_ACTIONS.labels(action=_label(action), refused_by=refused_by).inc()


# --- the gateway's calls ------------------------------------------------------------------
# A gateway method may call another (set_snapshot_metadata reads the metadata back): only the
# outermost call is counted, so one user action is one sample.
_IN_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("in_cloud_call", default=False)
F = TypeVar("F", bound=Callable[..., Any])


def _outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    name = type(exc).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()  # NotFound -> not_found


def timed_cloud_call(endpoint: str, fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _IN_CALL.get():
            return fn(*args, **kwargs)
        token = _IN_CALL.set(True)
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            return fn(*args, **kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            _IN_CALL.reset(token)
            CLOUD_REQUEST_SECONDS.labels(endpoint=endpoint).observe(time.perf_counter() - started)
            CLOUD_REQUESTS.labels(endpoint=endpoint, outcome=_outcome(error)).inc()

    return wrapper  # type: ignore[return-value]


# Version negotiation is answered from a per-process cache: not a call worth a series.
_NEGOTIATION = frozenset({"max_microversion", "snapshot_microversion"})


def instrument_gateway(cls: type) -> type:
    """Time and count every gateway method that reaches the cloud.

    Applied once at the bottom of gateway.py, so the gateway's own code is left as it is. The
    methods that reach the cloud are the ones wrapped by its error translation (they carry
    `__wrapped__`); helpers and the page iterators are left alone, the calls they make are
    counted themselves.
    """
    for name, attr in list(vars(cls).items()):
        if name.startswith("_") or name in _NEGOTIATION:
            continue
        if isinstance(attr, classmethod) and hasattr(attr.__func__, "__wrapped__"):
            setattr(cls, name, classmethod(timed_cloud_call(name, attr.__func__)))
        elif callable(attr) and hasattr(attr, "__wrapped__"):
            setattr(cls, name, timed_cloud_call(name, attr))
    return cls


# --- Celery tasks -------------------------------------------------------------------------
_STARTED: dict[str, float] = {}


def task_started(task_id: str) -> None:
    _STARTED[task_id] = time.perf_counter()


def task_finished(task_id: str, task_name: str) -> None:
    started = _STARTED.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(task=task_name).observe(time.perf_counter() - started)


def task_failed(task_name: str) -> None:
    TASK_FAILURES.labels(task=task_name).inc()


def connect_celery_signals() -> None:
    """Task durations and failures from Celery's signals (called from dashboard/celery.py)."""
    from celery.signals import (
        task_failure,
        task_postrun,
        task_prerun,
        worker_process_shutdown,
        worker_ready,
    )

    def on_prerun(task_id: str | None = None, **_: Any) -> None:
        if task_id:
            task_started(task_id)

    def on_postrun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
        if task_id and task is not None:
            task_finished(task_id, task.name)

    def on_failure(sender: Any = None, **_: Any) -> None:
        task_failed(getattr(sender, "name", "unknown"))

    task_prerun.connect(on_prerun, weak=False)
    task_postrun.connect(on_postrun, weak=False)
    task_failure.connect(on_failure, weak=False)
    worker_process_shutdown.connect(_child_exited, weak=False)
    worker_ready.connect(_serve_worker_metrics, weak=False)


def _child_exited(pid: int | None = None, **_: Any) -> None:
    """A prefork child ended: its gauges' files go, its counters stay summed (multiprocess)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def _serve_worker_metrics(**_: Any) -> Any:
    """With METRICS_WORKER_PORT set, the worker serves its processes' task and cloud-call
    metrics on that port (the web's /metrics cannot read another container's files)."""
    from django.conf import settings

    port = settings.METRICS_WORKER_PORT
    if not port:
        return None
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    server, _thread = start_http_server(port, addr=settings.METRICS_WORKER_ADDR, registry=registry)
    return server
