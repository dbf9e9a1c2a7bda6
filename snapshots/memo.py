"""Heavy reads of the mirror (list counts, the overview's aggregates), remembered until it changes.

Every write that changes what a page can show (a snapshot or volume new, changed or gone, a
row flagged stuck; an audit event in its own domain) calls `changed()`, which moves the
generation kept in the shared cache (Redis in production, a file cache on one machine).
A remembered value is keyed by the generation, so the first read after a change computes it
afresh, and it is never kept longer than MEMO_SECONDS whatever happens (a lost bump, a cache
that was flushed, a clock-bound figure such as "older than 30 days").

The cache is a speed-up, never a dependency: when it fails, the value is computed directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import transaction

log = logging.getLogger(__name__)
GENERATION_KEY = "memo:generation"
# Two domains, each with its own generation: the mirror (snapshots, volumes, their status
# history) and the audit log, so a sign-in (audited) does not recompute the snapshot counts.
MIRROR, AUDIT = "mirror", "audit"
WAIT_FOR_OTHER = 5.0  # seconds a request waits for another one computing the same value
T = TypeVar("T")


def _seconds() -> float:
    return settings.MEMO_SECONDS


def _key(domain: str) -> str:
    return f"{GENERATION_KEY}:{domain}"


def generation(domain: str = MIRROR) -> str:
    """The current generation of `domain`: a token that changes with every committed change."""
    token = cache.get(_key(domain))
    if token is None:
        token = uuid.uuid4().hex
        cache.add(_key(domain), token, timeout=None)
        token = cache.get(_key(domain), token)
    return token


def _bump(domain: str) -> None:
    try:
        cache.set(_key(domain), uuid.uuid4().hex, timeout=None)
    except Exception:
        log.warning("could not move the mirror generation: remembered reads expire on their own")


def changed(domain: str = MIRROR) -> None:
    """`domain` changed: forget its remembered reads now, and again once this commits (a read
    between the two may have remembered what was there before the commit)."""
    _bump(domain)
    transaction.on_commit(lambda: _bump(domain))


def remember(parts: tuple, compute: Callable[[], T], *, domain: str = MIRROR) -> T:
    """`compute()`, or what it returned for the same `parts` since the last change.

    After a change, many requests may want the same value at once: one computes it (it holds a
    short claim in the cache) and the others wait up to WAIT_FOR_OTHER seconds for its answer
    instead of running the same aggregate side by side; past that they compute it themselves."""
    if _seconds() <= 0:
        return compute()
    try:
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()
        key = f"memo:{generation(domain)}:{digest}"
        found = cache.get(key)
        if found is None and not cache.add(f"{key}:claim", 1, timeout=WAIT_FOR_OTHER):
            found = _wait_for(key)
    except Exception:
        return compute()
    if found is not None:
        return found
    try:
        value = compute()
    except BaseException:
        with contextlib.suppress(Exception):  # let the next request try at once
            cache.delete(f"{key}:claim")
        raise
    with contextlib.suppress(Exception):  # the cache is down: the next read computes it again
        cache.set(key, value, timeout=_seconds())
    return value


def _wait_for(key: str) -> object | None:
    deadline = time.monotonic() + WAIT_FOR_OTHER
    while time.monotonic() < deadline:
        time.sleep(0.02)
        found = cache.get(key)
        if found is not None:
            return found
    return None


def projects_key(scope) -> tuple[str, ...] | None:
    """The projects `scope` reads, in a form that keys the same in every process."""
    projects = scope.readable_projects
    return None if projects is None else tuple(sorted(projects))


def count(queryset) -> int:
    """`queryset.count()`, remembered: keyed by the query's SQL and parameters, so two scopes or
    two filters never share a count."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing: no query at all
        return queryset.count()
    domain = AUDIT if queryset.model._meta.model_name == "auditevent" else MIRROR
    return remember(("count", queryset.db, sql, params), queryset.count, domain=domain)
