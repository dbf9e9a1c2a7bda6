"""Small helpers every view uses."""

from __future__ import annotations


def client_addr(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def small_int(value: str | None, *, digits: int = 18) -> int | None:
    """A non-negative ASCII number of at most `digits` digits, else None (never an exception)."""
    if value and value.isascii() and value.isdigit() and len(value) <= digits:
        return int(value)
    return None
