"""The real client address behind trusted reverse proxies, in REMOTE_ADDR for everyone after.

A proxy appends the address it received the request from to X-Forwarded-For. Walking that list
from the right, every hop that is a trusted proxy (settings.TRUSTED_PROXIES) is skipped; the
first one that is not is the client. Hops left of it were written by the client itself and
are never believed. Nothing is read from the header unless the peer itself is trusted.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def real_client_addr(peer: str, forwarded_for: str, proxies: tuple[str, ...]) -> str:
    networks = _networks(proxies)

    def trusted(addr) -> bool:
        return addr is not None and any(addr in net for net in networks)

    current = _address(peer)
    if not trusted(current):
        return peer
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        addr = _address(hop)
        if addr is None:  # garbage a trusted proxy passed on: stop at the last good hop
            break
        current = addr
        if not trusted(addr):
            break
    return str(current)


class ClientAddressMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        proxies = tuple(settings.TRUSTED_PROXIES)
        if proxies:
            peer = request.META.get("REMOTE_ADDR", "")
            request.META["REMOTE_ADDR"] = real_client_addr(
                peer, request.META.get("HTTP_X_FORWARDED_FOR", ""), proxies
            )
        return self.get_response(request)
