"""Counting sign-in attempts, before the password is checked, so concurrency cannot outrun it.

Every attempt takes a slot first (an atomic increment) and is refused without asking Keystone
or the password hasher once the count passes the limit; a success gives its slots back. Two
counters per attempt:

- user + client address (LOGIN_THROTTLE_ATTEMPTS): guesses at one account from one place. A
  person signing in from elsewhere is never locked out by someone else's guesses;
- client address alone (LOGIN_THROTTLE_ADDRESS_ATTEMPTS, higher): one place spraying many
  user names. Only failures stay counted, so a busy office behind one address is not refused
  for its successful sign-ins.

Both expire LOGIN_THROTTLE_WINDOW seconds after the first failure of the window; that, or a
successful sign-in from the same place, is the way back. The counters live in the cache
(Redis in production); when the cache does not answer, or cannot increment atomically (the
file cache `make run` uses), they live in the database, so sign-in keeps working, and keeps
being throttled, through a cache outage.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Case, F, When
from django.utils import timezone

from snapshots.models import ThrottleCounter

log = logging.getLogger(__name__)


class Throttled(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-ins. Try again in {max(1, seconds // 60)} minute(s)."
        )
        self.seconds = seconds


def _key(kind: str, *parts: str) -> str:
    raw = "|".join(parts).encode()
    return f"login-{kind}:" + hashlib.sha256(raw).hexdigest()[:64]


def _keys(username: str, client_addr: str | None) -> list[tuple[str, int]]:
    addr = client_addr or ""
    return [
        (_key("user", username.lower(), addr), settings.LOGIN_THROTTLE_ATTEMPTS),
        (_key("addr", addr), settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS),
    ]


# --- the two stores ------------------------------------------------------------------------


def _cache_incr(key: str, window: int) -> int:
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def _db_incr(key: str, window: int) -> int:
    now = timezone.now()
    expires = now + timedelta(seconds=window)
    with transaction.atomic():
        ThrottleCounter.objects.get_or_create(key=key, defaults={"expires_at": expires})
        ThrottleCounter.objects.filter(key=key).update(
            count=Case(When(expires_at__lte=now, then=1), default=F("count") + 1),
            expires_at=Case(When(expires_at__lte=now, then=expires), default=F("expires_at")),
        )
        return ThrottleCounter.objects.values_list("count", flat=True).get(key=key)


def _cache_decr(key: str) -> None:
    try:
        if cache.decr(key) < 0:
            cache.delete(key)
    except ValueError:
        pass


def _db_decr(key: str) -> None:
    ThrottleCounter.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


def _cache_clear(key: str) -> None:
    cache.delete(key)


def _db_clear(key: str) -> None:
    ThrottleCounter.objects.filter(key=key).delete()


def _cache_is_atomic() -> bool:
    """Redis and the in-process cache increment atomically; the file and database caches read
    then write, so concurrent attempts could both pass: the database store is used instead."""
    return isinstance(caches["default"], RedisCache | LocMemCache)  # the backend, not the proxy


def _with_fallback(cache_op, db_op, *args):
    if not _cache_is_atomic():
        return db_op(*args)
    try:
        return cache_op(*args)
    except Exception as exc:  # any cache backend error: connection refused, timeout, ...
        log.warning("Cache unavailable for sign-in throttling, using the database: %s", exc)
        return db_op(*args)


# --- the interface ----------------------------------------------------------------------------


def reserve(username: str, client_addr: str | None) -> None:
    """Count this attempt; raise Throttled (the attempt may not go ahead) past either limit."""
    window = settings.LOGIN_THROTTLE_WINDOW
    over = False
    for key, limit in _keys(username, client_addr):
        count = _with_fallback(_cache_incr, _db_incr, key, window)
        over = over or count > limit
    if over:
        raise Throttled(window)


def release(username: str, client_addr: str | None, *, signed_in: bool) -> None:
    """Give this attempt's slots back: it succeeded, or never reached a password check.

    A sign-in also clears its user + address counter: whoever knows the password starts afresh.
    """
    (user_key, _), (addr_key, _) = _keys(username, client_addr)
    if signed_in:
        _with_fallback(_cache_clear, _db_clear, user_key)
    else:
        _with_fallback(_cache_decr, _db_decr, user_key)
    _with_fallback(_cache_decr, _db_decr, addr_key)


def forget_expired() -> int:
    """Remove database counters whose window is over (the cache expires its own)."""
    deleted, _ = ThrottleCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
