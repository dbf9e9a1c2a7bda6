"""Headers every response carries: a Content-Security-Policy, and no caching of signed-in pages.

The policy allows only this site's own scripts, styles, fonts and images (plus the data: images
Bootstrap's CSS uses for its icons): no inline script, no inline style, no eval, no framing.
Templates therefore keep behaviour in static/js and styles in static/css.

A page served to a signed-in user is never stored by the browser or a proxy (`no-store`): it
shows project data, and the back button after sign-out must not show it again.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import add_never_cache_headers


def policy_header() -> str:
    return "; ".join(f"{name} {value}" for name, value in settings.CONTENT_SECURITY_POLICY.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.policy = policy_header()

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        user = getattr(request, "user", None)
        signed_in = user.is_authenticated if user is not None else False
        # A request refused before authentication ran: a session cookie may mean a signed-in user.
        if signed_in or (user is None and settings.SESSION_COOKIE_NAME in request.COOKIES):
            add_never_cache_headers(response)
        return response
