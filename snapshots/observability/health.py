"""Liveness and readiness.

`/healthz` says the process answers (no database, no broker: a liveness probe must not restart a
web server because PostgreSQL blinked). `/readyz` runs every check in `HEALTH_CHECKS` (dotted
paths of functions returning a `Check`) and answers 503 when one named in `READYZ_REQUIRED` fails;
the others (the cloud, the worker, the beat, the listener) are reported in the body, so a stale
beat does not take every web replica out of a load balancer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from snapshots.models import CloudState
from snapshots.observability import heartbeats


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    # False: the check does not apply here (e.g. no notification listener is configured).
    configured: bool = True


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return Check("database", False, type(exc).__name__)
    return Check("database", True)


def check_broker() -> Check:
    from dashboard.celery import app

    timeout = settings.READYZ_BROKER_TIMEOUT
    try:
        with app.connection_for_write(connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception as exc:  # kombu raises a variety of transport errors
        return Check("broker", False, type(exc).__name__)
    return Check("broker", True)


def check_cloud() -> Check:
    state = CloudState.objects.filter(id=1).first()
    if state is None:
        return Check("cloud", True, "not contacted yet")
    if state.reachable:
        return Check("cloud", True, "reachable when last seen")
    return Check("cloud", False, "unreachable when last seen")


def _heartbeat_check(name: str) -> Check:
    beat = heartbeats.pulse(name)
    if beat.age_seconds is None:
        return Check(name, False, "no heartbeat yet")
    return Check(name, not beat.stale, f"last tick {beat.age_seconds:.0f}s ago")


def check_worker() -> Check:
    return _heartbeat_check(heartbeats.WORKER)


def check_beat() -> Check:
    return _heartbeat_check(heartbeats.BEAT)


def check_listener() -> Check:
    """The notification listener's heartbeat row, when a listener is configured."""
    if not settings.LISTENER_HEARTBEAT_INTERVAL:
        return Check(heartbeats.LISTENER, True, "no listener configured", configured=False)
    return _heartbeat_check(heartbeats.LISTENER)


def _checks() -> list[Callable[[], Check]]:
    return [import_string(path) for path in settings.HEALTH_CHECKS]


def _run(fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except Exception as exc:  # a check that cannot run (the database is down) has failed
        return Check(fn.__name__.removeprefix("check_"), False, type(exc).__name__)


def run_checks() -> tuple[bool, list[Check]]:
    """(ready, every check). Ready when every required, configured check passed."""
    results = [_run(fn) for fn in _checks()]
    required = set(settings.READYZ_REQUIRED)
    ready = all(c.ok for c in results if c.configured and c.name in required)
    return ready, results


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "alive"})


@never_cache
@require_safe
def readyz(request):
    started = time.monotonic()
    ready, results = run_checks()
    body = {
        "status": "ready" if ready else "not ready",
        "required": list(settings.READYZ_REQUIRED),
        "checks": {c.name: asdict(c) for c in results},
        "seconds": round(time.monotonic() - started, 3),
    }
    return JsonResponse(body, status=200 if ready else 503)
