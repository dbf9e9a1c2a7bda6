"""The Celery application. Tasks live in snapshots/tasks.py; their logic in snapshots/services/."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task durations and failures for /metrics (imports nothing of Django).
from snapshots.observability.metrics import connect_celery_signals  # noqa: E402

connect_celery_signals()
