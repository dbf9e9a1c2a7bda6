"""Leases in the database, so that two workers (on one machine or several) never run the same job,
and period claims, so that two beats never run the same tick twice.

A lease is one `WorkerLock` row. Taking it is one conditional UPDATE ("set me as the owner where
the lease has expired or is already mine"), which the database applies atomically on SQLite and
PostgreSQL alike, so no cache or Redis is needed. A worker that dies keeps its lease only until
`expires_at`; a long job renews it as it goes and stops if it finds the lease taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from snapshots.models import TickSlot, WorkerLock


class LockHeld(Exception):
    """Someone else holds the lease."""

    def __init__(self, name: str, owner: str, expires_at) -> None:
        who = owner or "another worker"
        super().__init__(f"{name} is held by {who} until {expires_at:%H:%M:%S} UTC")
        self.name = name
        self.owner = owner
        self.expires_at = expires_at


class LockLost(Exception):
    """The lease expired while its job ran and another worker took it over."""


def new_owner() -> str:
    """A name for one holder: which machine and process, plus a unique part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


class Lease:
    def __init__(self, name: str, owner: str, ttl: float) -> None:
        self.name = name
        self.owner = owner
        self.ttl = ttl

    def renew(self) -> None:
        """Push the expiry back; raises LockLost if the lease is no longer ours."""
        until = timezone.now() + timedelta(seconds=self.ttl)
        if not WorkerLock.objects.filter(name=self.name, owner=self.owner).update(expires_at=until):
            raise LockLost(f"the {self.name} lease was taken over by another worker")

    def release(self) -> None:
        WorkerLock.objects.filter(name=self.name, owner=self.owner).update(
            owner="", expires_at=timezone.now()
        )


def acquire(name: str, *, ttl: float, owner: str | None = None) -> Lease:
    """Take the lease `name` for `ttl` seconds, or raise LockHeld."""
    owner = owner or new_owner()
    now = timezone.now()
    if not WorkerLock.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                WorkerLock.objects.create(name=name, owner="", expires_at=now)
        except IntegrityError:
            pass  # another worker created it first: fine, compete below
    taken = WorkerLock.objects.filter(
        Q(expires_at__lte=now) | Q(owner=owner) | Q(owner=""), name=name
    ).update(owner=owner, expires_at=now + timedelta(seconds=ttl))
    if not taken:
        row = WorkerLock.objects.filter(name=name).first()
        raise LockHeld(name, row.owner if row else "", row.expires_at if row else now)
    return Lease(name, owner, ttl)


@contextmanager
def held(name: str, *, ttl: float) -> Iterator[Lease]:
    """`with held("sync", ttl=120) as lease:` ... released on the way out, even on errors."""
    lease = acquire(name, ttl=ttl)
    try:
        yield lease
    finally:
        lease.release()


def claim_period(name: str, period: int) -> bool:
    """Claim period number `period` of the periodic job `name`; False when some caller already
    claimed it (or a later one). One conditional UPDATE: atomic on SQLite and PostgreSQL alike,
    so of two beats sending the same tick exactly one runs it."""
    if not TickSlot.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                TickSlot.objects.create(name=name, period=period - 1)
        except IntegrityError:
            pass  # another caller created it first: compete below
    return bool(TickSlot.objects.filter(name=name, period__lt=period).update(period=period))
