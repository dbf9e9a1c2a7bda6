"""Idempotency keys: a form submitted twice performs its action once.

Every action form carries a key generated when the form is rendered. The first POST claims it (an
`Operation` row, committed before Cinder is called); a second POST with the same key finds the
row, waits briefly if the first is still running, and returns the first one's result without
calling Cinder. A failed first attempt releases the key, so the person can simply submit again.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from snapshots.models import Operation

WAIT_SECONDS = 10.0
KEY_LIFETIME = timedelta(days=1)
POLL_SECONDS = 0.1


class InProgress(Exception):
    """The first submission with this key is still running."""


class KeyReused(Exception):
    """The key belongs to another person or another action: refuse rather than guess."""


def new_key() -> str:
    return secrets.token_urlsafe(24)


def claim(*, key: str, actor_id: str, action: str) -> Operation | None:
    """Claim `key` for this action. Returns None when it is new (go ahead and act), or the
    finished earlier `Operation` whose result the caller should return instead."""
    try:
        with transaction.atomic():
            Operation.objects.create(key=key, actor_id=actor_id, action=action)
        return None
    except IntegrityError:
        pass
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        op = Operation.objects.filter(pk=key).first()
        if op is None:  # the first attempt failed and released the key: try to claim it again
            return claim(key=key, actor_id=actor_id, action=action)
        if op.actor_id != actor_id or op.action != action:
            raise KeyReused("This form was already used for something else. Please start again.")
        if op.finished_at is not None:
            return op
        if time.monotonic() >= deadline:
            raise InProgress(
                "Your earlier submission of this form is still being processed; "
                "look at the list in a moment."
            )
        time.sleep(POLL_SECONDS)


def finish(*, key: str, target_id: str = "", result: dict[str, Any] | None = None) -> None:
    Operation.objects.filter(pk=key).update(
        target_id=target_id[:64], result=result or {}, finished_at=timezone.now()
    )


def release(*, key: str) -> None:
    """The attempt did not happen (refused, or the cloud was down): the key may be used again."""
    Operation.objects.filter(pk=key, finished_at__isnull=True).delete()


def forget(*, older_than: timedelta = KEY_LIFETIME, now: datetime | None = None) -> int:
    """Drop idempotency keys past the double-submit window. Returns how many went.

    A key only has to outlive the few seconds between two clicks (and a reload of the result
    page), so a day is generous; without this the table grows by one row per submitted form."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = Operation.objects.filter(created_at__lt=cutoff).delete()
    return deleted
