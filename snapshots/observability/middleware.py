"""Middleware of the service side.

`ProbeMiddleware` sits first: probes and scrapers reach /healthz, /readyz and /metrics by a pod's
address or a container name, which ALLOWED_HOSTS rightly does not list, and they need no session,
CSRF or redirect to https. So these paths are answered here, before host validation.
"""

from __future__ import annotations

from snapshots.observability import health


def _probe_views() -> dict:
    from snapshots.observability import metrics_view

    return {"/healthz": health.healthz, "/readyz": health.readyz, "/metrics": metrics_view.metrics}


class ProbeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.views = _probe_views()

    def __call__(self, request):
        view = self.views.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
