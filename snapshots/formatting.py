"""How times and durations read on every page: one place, so the list, the history, the
overview and the detail page say "2 min 5 s" and "3 days, 4 hours ago" the same way.

Plain functions over plain values (no queries, no translation lookups per call: the list
formats two of these per row).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape as h

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

DASH = "\u2014"
UNITS = (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def duration(value: timedelta | None) -> str:
    """A short exact duration: "4 s", "2 min 5 s", "3 h 12 min", "2 d 4 h"; "" if unknown.

    Exact to the second: timesince rounds to the largest unit, which hides the seconds that
    matter for a `creating` stay.
    """
    if value is None:
        return ""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def seconds_duration(seconds: float | None) -> str:
    return "" if seconds is None else duration(timedelta(seconds=seconds))


def relative(value: datetime, now: datetime) -> str:
    """ "3 days, 4 hours": the two largest units, like Django's timesince."""
    seconds = int((now - value).total_seconds())
    if seconds < 60:
        return "less than a minute" if seconds >= 0 else "0 minutes"
    parts: list[str] = []
    for name, size in UNITS:
        count, seconds = divmod(seconds, size)
        if count or parts:
            if count:
                parts.append(f"{count} {name}{'' if count == 1 else 's'}")
            if len(parts) == 2 or (parts and not count):
                break
    return ", ".join(parts)


def relative_time(value: datetime | None, *, now: datetime, suffix: str = " ago") -> SafeString:
    """`<time>`: relative time shown, the exact local time on hover and in `datetime`.
    An f-string over escaped values: the list writes two of these per row."""
    if value is None:
        return SafeString(DASH)
    local = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")
    return mark_safe(  # noqa: S308 (every value is escaped)
        f'<time datetime="{h(value.isoformat())}" title="{h(local)}">'
        f"{h(relative(value, now))}{h(suffix)}</time>"
    )


def exact_time(value: datetime | None) -> SafeString:
    """`<time>` with the local date and time to the second."""
    if value is None:
        return SafeString(DASH)
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S")
    )
