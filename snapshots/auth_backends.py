"""Local (Django user) sign-in, throttled on every path that checks a password.

The dashboard's own login form and Django admin's both go through `authenticate()`, so the
throttle sits here rather than in either view. A refused attempt never reaches the password
hasher; the view learns why from `request.login_throttled`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from snapshots.services import throttle

BACKEND_PATH = "snapshots.auth_backends.ThrottledModelBackend"


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        addr = request.META.get("REMOTE_ADDR") if request is not None else None
        try:
            throttle.reserve(str(username), addr)
        except throttle.Throttled as exc:
            if request is not None:
                request.login_throttled = exc
            raise PermissionDenied(str(exc)) from exc  # authenticate() stops at this backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            throttle.release(str(username), addr, signed_in=True)
        return user
