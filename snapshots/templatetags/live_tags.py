"""`{% live_watch table %}` / `{% live_watch snapshot %}`: the attributes a live poller needs for
its change stream (views/live_stream.py) or its cheap checks (views/live.py): the signed ticket
for the transitional rows the page shows, where to listen, where to ask, and how often."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html

from snapshots.models import Snapshot
from snapshots.views.live import ticket_for

register = template.Library()


@register.simple_tag
def live_watch(shown) -> str:
    if isinstance(shown, Snapshot):
        records = [shown]
    else:  # a django-tables2 table: the rows of its current page
        rows = shown.page.object_list if getattr(shown, "page", None) else shown.rows
        # the custom table yields records; stock django-tables2 rows wrap them
        records = [getattr(row, "record", row) for row in rows]
    ticket = ticket_for(r.pk for r in records if r.is_transitional)
    if not ticket:
        return ""
    return format_html(
        'data-live-ticket="{}" data-stream-url="{}" data-stamp-url="{}" data-every="{}"',
        ticket,
        settings.LIVE_STREAM_PATH,
        settings.LIVE_STAMP_PATH,
        int(settings.LIVE_CHECK_SECONDS * 1000),
    )
