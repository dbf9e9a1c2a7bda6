"""Small helpers every view uses."""

from __future__ import annotations


def client_addr(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
