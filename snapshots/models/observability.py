"""Operational rows written by the processes themselves: heartbeats (health, overview)."""

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last tick of a long-running role ("worker", "beat", "listener").

    One row per role, not per process: readiness asks whether *some* worker is working.
    """

    name = models.CharField(primary_key=True, max_length=64)
    beat_at = models.DateTimeField(default=timezone.now)
    # host and pid of the process that wrote the last tick, for the operator's eyes.
    detail = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
