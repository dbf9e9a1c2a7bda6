"""Removing expired sign-in state: sessions (they hold Keystone tokens) and throttle counters."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from snapshots.services import throttle


def clear_expired_sessions() -> str:
    """What `manage.py clearsessions` does, plus expired database throttle counters."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()  # a no-op for engines whose store expires on its own
    counters = throttle.forget_expired()
    return f"cleared expired sessions and {counters} expired sign-in counters"
