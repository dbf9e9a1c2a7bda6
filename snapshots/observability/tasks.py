"""Celery tasks of the service side: heartbeats (and, below, alert evaluation and delivery).

Loaded through CELERY_INCLUDE. Arguments are ids only.
"""

from __future__ import annotations

from celery import shared_task
from celery.signals import before_task_publish

HEARTBEAT_TASK = "snapshots.observability.tasks.heartbeat"


@shared_task(name=HEARTBEAT_TASK, acks_late=True, ignore_result=True, time_limit=30)
def heartbeat() -> str:
    """The worker's tick (beat, every HEARTBEAT_INTERVAL)."""
    from snapshots.observability import heartbeats

    heartbeats.record(heartbeats.WORKER)
    return "worker heartbeat"


@before_task_publish.connect
def _beat_ticked(sender: str | None = None, **_kwargs) -> None:
    """Only the beat publishes `heartbeat`: its publishing is the beat's own tick."""
    if sender != HEARTBEAT_TASK:
        return
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from snapshots.observability import heartbeats

    heartbeats.record(heartbeats.BEAT)
