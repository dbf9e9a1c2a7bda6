"""The Celery application. Tasks live in snapshots/tasks.py; their logic in snapshots/services/."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task durations and failures for /metrics, the task id in log lines (no Django imports).
from snapshots.observability import logs, metrics  # noqa: E402

metrics.connect_celery_signals()
logs.connect_celery_signals()
