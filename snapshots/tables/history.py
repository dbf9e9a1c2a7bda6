"""The status history's table: every status a snapshot went through and how long it lasted.

Every cell goes through `format_html` (snapshot names are user data). `export_only` columns
appear only in exports; `value_*` methods give exports plain values.
"""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from snapshots.choices import ChangeSource, Status, badge
from snapshots.formatting import DASH, duration, exact_time
from snapshots.models import StatusChange
from snapshots.tables.base import STATUS_LABELS, ListTable, ProjectNamesMixin
from snapshots.templatetags.list_tags import snapshot_path
from snapshots.templatetags.reveal import reveal_html

SOURCE_LABELS: dict[str, str] = dict(ChangeSource.choices)


def status_badge(status: str):
    if not status:
        return format_html('<span class="text-body-secondary">{}</span>', "first seen")
    label = STATUS_LABELS.get(status, status)
    return format_html('<span class="badge text-bg-{}">{}</span>', badge(status), label)


class StatusChangeTable(ProjectNamesMixin, ListTable):
    observed_at = tables.Column(verbose_name="When", order_by=("observed_at", "id"))
    snapshot = tables.Column(
        verbose_name="Snapshot", accessor="snapshot_id", order_by=("snapshot__name", "snapshot_id")
    )
    project = tables.Column(
        verbose_name="Project", accessor="project_id", order_by=("project_id", "id")
    )
    from_status = tables.Column(verbose_name="From", order_by=("from_status", "id"))
    to_status = tables.Column(verbose_name="To", order_by=("to_status", "id"))
    duration = tables.Column(
        verbose_name="Lasted",
        order_by=("duration", "id"),
        empty_values=(),
        attrs={"td": {"class": "text-nowrap"}},
    )
    progress = tables.Column(verbose_name="Progress", order_by=("progress", "id"))
    source = tables.Column(verbose_name="Source", order_by=("source", "id"))
    # Export only: added when the table is built for an export (ExportColumnsMixin).
    export_only = {
        "id": tables.Column(verbose_name="Change"),
        "snapshot_name": tables.Column(verbose_name="Snapshot name", accessor="snapshot__name"),
        "project_id": tables.Column(verbose_name="Project ID"),
        "next_observed_at": tables.Column(verbose_name="Next change"),
        "duration_seconds": tables.Column(
            verbose_name="Seconds", accessor="duration", empty_values=()
        ),
    }

    class Meta:
        model = StatusChange
        fields = ()
        sequence = (
            "observed_at",
            "snapshot",
            "project",
            "from_status",
            "to_status",
            "duration",
            "progress",
            "source",
            "...",
        )
        order_by = ("-observed_at",)
        empty_text = "No status changes match."
        attrs = {"class": "table table-sm table-hover align-middle", "id": "history-table"}

    def render_observed_at(self, value):
        return exact_time(value)

    def render_snapshot(self, record):
        url = snapshot_path("detail", record.snapshot_id)
        label = record.snapshot.name or record.snapshot_id[:8]
        return format_html(
            '<a href="{}" title="{}">{}</a>', url, record.snapshot_id, reveal_html(label)
        )

    def value_snapshot(self, record):
        return record.snapshot_id

    def render_from_status(self, value):
        return status_badge(value)

    def value_from_status(self, value):
        return value

    def render_to_status(self, value):
        return status_badge(value)

    def value_to_status(self, value):
        return value

    def render_duration(self, record):
        if record.duration is None:
            if record.to_status == Status.DELETED:
                return DASH
            return format_html('<span class="text-body-secondary">{}</span>', "still")
        return duration(record.duration)

    def value_duration(self, record):
        return duration(record.duration)

    def value_duration_seconds(self, record):
        return "" if record.duration is None else round(record.duration.total_seconds(), 3)

    def render_progress(self, value):
        return f"{value}%"

    def value_progress(self, record):
        return record.progress

    def value_source(self, record):
        return record.source

    def render_source(self, value):
        return SOURCE_LABELS.get(value, value)
