"""Idempotency keys: a form submitted twice performs its action once.

Every action form carries a key generated when the form is rendered. The first POST claims it (an
`Operation` row, committed before Cinder is called) for one person, one action and one subject
(the snapshot, or the volume a snapshot is made from); the same key sent for anything else is
refused. A second POST with the same key finds the row, waits briefly if the first is still
running, and returns the first one's result without calling Cinder. An attempt that provably
did not happen releases the key, so the person can simply submit again; an attempt whose
outcome is unknown keeps it until the worker has found out what Cinder did.
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
    """The key belongs to another person, action or target: refuse rather than guess."""


def new_key() -> str:
    return secrets.token_urlsafe(24)


def claim(
    *, key: str, actor_id: str, action: str, subject: str = "", project_id: str = ""
) -> Operation | None:
    """Claim `key` for this person, action and subject. Returns None when it is new (go ahead
    and act), or the earlier `Operation` whose result the caller returns instead (finished,
    or still unknown). Raises KeyReused for a key bound to something else, InProgress when
    the first submission is still running after a short wait."""
    fields = {"actor_id": actor_id, "action": action, "subject": subject[:64]}
    try:
        with transaction.atomic():
            Operation.objects.create(key=key, project_id=project_id, **fields)
        return None
    except IntegrityError:
        pass
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        op = Operation.objects.filter(pk=key).first()
        if op is None:  # the first attempt did not happen and released the key: claim it again
            return claim(
                key=key, actor_id=actor_id, action=action, subject=subject, project_id=project_id
            )
        if any(getattr(op, name) != value for name, value in fields.items()):
            raise KeyReused(
                "This form was already used for another action or snapshot, so it was not "
                "sent again. Open the form anew."
            )
        if op.state == Operation.NOT_DONE:  # the worker found the first attempt never happened
            taken = Operation.objects.filter(pk=key, state=Operation.NOT_DONE).update(
                state=Operation.RUNNING,
                finished_at=None,
                event_id=None,
                message="",
                created_at=timezone.now(),
            )
            if taken:
                return None
            continue
        if op.finished_at is not None or op.state == Operation.UNKNOWN:
            return op
        if time.monotonic() >= deadline:
            raise InProgress(
                "Your earlier submission of this form is still being processed; "
                "look at the list in a moment."
            )
        time.sleep(POLL_SECONDS)


def finish(*, key: str, target_id: str = "", result: dict[str, Any] | None = None) -> None:
    Operation.objects.filter(pk=key).update(
        target_id=target_id[:64],
        result=result or {},
        state=Operation.DONE,
        finished_at=timezone.now(),
    )


def release(*, key: str) -> None:
    """The attempt did not happen (refused, or never reached Cinder): the key may be used again."""
    Operation.objects.filter(pk=key, finished_at__isnull=True, state=Operation.RUNNING).delete()


def hold_unknown(
    *,
    key: str,
    actor_id: str,
    action: str,
    subject: str,
    project_id: str,
    target_id: str,
    event_id: int | None,
    request: dict[str, Any],
) -> None:
    """Keep the key claimed while nobody knows whether Cinder acted; the worker settles it."""
    Operation.objects.update_or_create(
        key=key,
        defaults={
            "actor_id": actor_id,
            "action": action,
            "subject": subject[:64],
            "project_id": project_id,
            "target_id": target_id[:64],
            "state": Operation.UNKNOWN,
            "event_id": event_id,
            "request": request,
        },
    )


def settle(*, key: str, done: bool, target_id: str = "", message: str = "") -> None:
    """What the worker found out about an unknown attempt."""
    values: dict[str, Any] = {
        "state": Operation.SUCCEEDED if done else Operation.NOT_DONE,
        "message": message,
        "finished_at": timezone.now(),
    }
    if target_id:
        values["target_id"] = target_id[:64]
    Operation.objects.filter(pk=key, state=Operation.UNKNOWN).update(**values)


def forget(*, older_than: timedelta = KEY_LIFETIME, now: datetime | None = None) -> int:
    """Drop idempotency keys past the double-submit window. Returns how many went.

    A key only has to outlive the few seconds between two clicks (and a reload of the result
    page), so a day is generous; without this the table grows by one row per submitted form.
    Keys whose attempt is still unknown stay until the worker has settled them."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = (
        Operation.objects.filter(created_at__lt=cutoff).exclude(state=Operation.UNKNOWN).delete()
    )
    return deleted
