"""Where a `next=` parameter may send the browser: a local path on this site, else a default."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def is_safe_local_path(target: str, request) -> bool:
    """A path on this site (`/snapshots/?q=x`), never a host, a scheme or a bare word.

    A bare word (`x`, `-1`, a date) passes Django's host check but is not a path: `redirect()`
    would try it as a URL name and fail.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    return url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next_url(request, default: str) -> str:
    """The request's `next` (POST first, then GET) if it is a safe local path, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if is_safe_local_path(target, request) else default
