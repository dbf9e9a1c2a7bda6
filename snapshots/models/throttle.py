"""Sign-in failure counters kept in the database while the cache (Redis) is unreachable."""

from django.db import models


class ThrottleCounter(models.Model):
    key = models.CharField(max_length=80, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
