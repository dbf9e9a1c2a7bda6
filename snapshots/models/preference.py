"""What each person chose for a table (visible columns, page size), kept across sign-outs."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class TablePreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="table_preferences"
    )
    table = models.CharField(max_length=64)
    # Column names in display order; empty means the table's default set.
    columns = models.JSONField(default=list, blank=True)
    per_page = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "table"], name="table_pref_user_table")
        ]

    def __str__(self) -> str:
        return f"{self.table} for user {self.user_id}"
