"""Asking the workers for follow-up work. Task arguments are ids only, never tokens or objects."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue(task: str, **kwargs: Any) -> None:
    """Send Celery task `task` (its dotted name) once the current transaction commits."""
    transaction.on_commit(lambda: send(task, kwargs), robust=True)


def send(task: str, kwargs: dict[str, Any]) -> None:
    from dashboard.celery import app

    app.send_task(task, kwargs=kwargs)
