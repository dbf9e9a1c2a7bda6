"""Whether the cloud answers, as the outage banner shows it (the CloudState row).

Every call the workers make with the service credential goes through `service_gateway()`,
which records its outcome: an outage (errors.Unavailable, a timeout included) marks the cloud
unreachable at once, any answer (a 404 or a refusal is an answer too) marks it reachable. So the
banner appears with the first failed call and clears with the first good one. While the cloud
is marked unreachable, a track tick that had nothing to ask asks anyway (one listing of one
snapshot), so recovery shows within a tick; while it answers, an idle tick costs nothing.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from django.utils import timezone

from snapshots.cloud import credentials, errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import CloudState


def record_failure(exc: errors.CloudError) -> None:
    CloudState.get()
    CloudState.objects.filter(id=1).update(
        reachable=False, last_error=exc.user_message()[:2000], last_error_at=timezone.now()
    )


def record_answer() -> None:
    CloudState.get()
    CloudState.objects.filter(id=1, reachable=False).update(reachable=True)


def is_down() -> bool:
    return CloudState.objects.filter(id=1, reachable=False).exists()


class _Recorded:
    """The service gateway (made on first use), each call's outcome recorded."""

    def __init__(self) -> None:
        self._gateway: Gateway | None = None

    def _target(self) -> Gateway:
        if self._gateway is None:
            try:
                self._gateway = credentials.service_gateway()
            except errors.Unavailable as exc:
                record_failure(exc)
                raise
        return self._gateway

    def unrecorded(self) -> Gateway:
        """The gateway itself, for calls made off the worker's thread (which must not touch
        the database): their caller records the outcome."""
        return self._target()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target(), name)
        if name.startswith("_") or not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except errors.Unavailable as exc:
                record_failure(exc)
                raise
            except errors.CloudError:
                record_answer()
                raise
            record_answer()
            return result

        return call


def service_gateway() -> Gateway:
    """The service account's gateway, recording reachability on every call."""
    return cast(Gateway, _Recorded())


def probe_if_down(gateway: Gateway) -> None:
    """One cheap call when the cloud is marked unreachable, so its recovery is seen."""
    if is_down():
        gateway.list_snapshots(all_projects=True, limit=1)
