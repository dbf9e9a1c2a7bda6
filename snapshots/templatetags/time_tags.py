"""Template filters over snapshots/formatting.py, so templates word times as the tables do."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

from snapshots import formatting

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """<time> with "3 days, 4 hours ago" and the exact time on hover."""
    return formatting.relative_time(value, now=timezone.now())


@register.filter
def duration(value: timedelta | None) -> str:
    return formatting.duration(value)
