"""`/metrics` for Prometheus: off the public pages, for a bearer token or an allowed address.

Access: `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set, or a client address
inside one of METRICS_ALLOWED_NETWORKS (default: loopback only). Anything else gets 404, so the
endpoint does not advertise itself. The client address is REMOTE_ADDR: a proxy in front must not
forward /metrics (deploy/nginx.conf refuses it); Prometheus scrapes each replica directly.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from snapshots.observability import collector


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False)
        for net in settings.METRICS_ALLOWED_NETWORKS
    )


def render() -> bytes:
    """Every process's counters and histograms, then the mirror's gauges."""
    mirror = collector.exposition(collector.gather())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(processes)
        return generate_latest(processes) + mirror
    return generate_latest(REGISTRY) + mirror


@never_cache
@require_safe
def metrics(request):
    if not allowed(request):
        return HttpResponseNotFound("Not found", content_type="text/plain")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
