"""The gateway a person's action uses, handed to views without them touching snapshots.cloud.

It is the signed-in person's own (their token; the service account in local mode), with the
short ACTION_TIMEOUT, and it is built only when a service makes its first call: pages that
never call Cinder never build one.
"""

from __future__ import annotations

from typing import Any

from snapshots.cloud import credentials
from snapshots.cloud.gateway import Gateway


class LazyGateway:
    """Stands in for the request's Gateway until a method is used, then builds it once."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self._gateway: Gateway | None = None

    def __getattr__(self, name: str) -> Any:
        if self._gateway is None:
            self._gateway = credentials.user_gateway(self._request, for_action=True)
        return getattr(self._gateway, name)

    def __repr__(self) -> str:
        return "<LazyGateway>"


def for_request(request: Any) -> Gateway:
    """The action gateway of this request (typed as a Gateway: it behaves as one)."""
    return LazyGateway(request)  # type: ignore[return-value]
