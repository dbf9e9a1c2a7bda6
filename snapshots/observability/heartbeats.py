"""Heartbeats: each long-running role records its last tick in the database.

The worker's tick is written when it runs the `heartbeat` task; the beat's when it publishes
that task (so a dead worker does not make the beat look dead, and the reverse). The notification
listener, when there is one, calls `record("listener")` from its own loop.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from snapshots.models import Heartbeat

WORKER = "worker"
BEAT = "beat"
LISTENER = "listener"


def _detail() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"[:255]


def record(name: str, *, now: datetime | None = None) -> None:
    """Store `name`'s tick. Safe when several processes tick at once (last writer wins)."""
    now = now or timezone.now()
    detail = _detail()
    if Heartbeat.objects.filter(name=name).update(beat_at=now, detail=detail):
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(name=name, beat_at=now, detail=detail)
    except IntegrityError:  # another process created it first
        Heartbeat.objects.filter(name=name).update(beat_at=now, detail=detail)


def period(name: str) -> float:
    """How often `name` ticks, in seconds."""
    if name == LISTENER:
        return float(settings.LISTENER_HEARTBEAT_INTERVAL)
    return float(settings.HEARTBEAT_INTERVAL)


@dataclass(frozen=True)
class Pulse:
    name: str
    beat_at: datetime | None
    age_seconds: float | None
    stale: bool
    detail: str = ""


def pulse(name: str, *, rows: dict[str, Heartbeat] | None = None, now=None) -> Pulse:
    """Whether `name` ticked within two periods (never ticked counts as stale)."""
    now = now or timezone.now()
    if rows is None:
        rows = {row.name: row for row in Heartbeat.objects.filter(name=name)}
    row = rows.get(name)
    if row is None:
        return Pulse(name=name, beat_at=None, age_seconds=None, stale=True)
    age = max(0.0, (now - row.beat_at).total_seconds())
    stale = age > timedelta(seconds=2 * period(name)).total_seconds()
    return Pulse(name=name, beat_at=row.beat_at, age_seconds=age, stale=stale, detail=row.detail)


def pulses(names: tuple[str, ...] = (WORKER, BEAT), *, now=None) -> list[Pulse]:
    """Several roles in one query."""
    rows = {row.name: row for row in Heartbeat.objects.filter(name__in=names)}
    return [pulse(name, rows=rows, now=now) for name in names]
