"""Tables of the audit log and the status history.

Every cell goes through `format_html` (names, messages and parameters are user data). Columns
with `visible=False` appear only in exports; `value_*` methods give exports plain values.
`SafeTableExport` keeps spreadsheet programs from running exported text as formulas.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_tables2.export import TableExport

from snapshots.choices import ChangeSource, Outcome, Status, badge
from snapshots.models import AuditEvent, StatusChange
from snapshots.templatetags.reveal import reveal_html, reveal_text

DASH = "\u2014"
OUTCOME_BADGE = {
    Outcome.SUCCESS: "success",
    Outcome.REFUSED: "danger",
    Outcome.DENIED: "warning",
    Outcome.FAILED: "secondary",
}
# Text a spreadsheet would run as a formula (OWASP CSV injection): exported with a leading '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MESSAGE_SHOWN = 140


class SafeTableExport(TableExport):
    """CSV, JSON and XLSX only; CSV/XLSX text cells that start like a formula are neutralised."""

    ALLOWED = ("csv", "json", "xlsx")

    @classmethod
    def is_valid_format(cls, export_format):
        return export_format in cls.ALLOWED

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        if self.format == "json":
            return dataset
        for index in range(dataset.height):
            row = dataset[index]
            if any(isinstance(v, str) and v.startswith(FORMULA_START) for v in row):
                dataset[index] = tuple(
                    "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
                    for v in row
                )
        return dataset

    def __init__(self, export_format, table, exclude_columns=None, dataset_kwargs=None):
        self.format = export_format  # table_to_dataset needs it; the base sets it too late
        super().__init__(export_format, table, exclude_columns, dataset_kwargs)


def time_cell(value: datetime | None):
    if value is None:
        return DASH
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S")
    )


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def status_badge(status: str):
    if not status:
        return format_html('<span class="text-body-secondary">{}</span>', "first seen")
    label = Status(status).label if status in Status.values else status
    return format_html('<span class="badge text-bg-{}">{}</span>', badge(status), label)


def human_duration(value: timedelta | None) -> str:
    """'3 d 4 h', '5 min 2 s', '0.4 s': short and exact enough to compare rows."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


class _ProjectNamesMixin:
    """Tables get the project id -> name map once from the view (no query per row)."""

    def __init__(self, *args, project_names: dict[str, str] | None = None, **kwargs) -> None:
        self.project_names = project_names or {}
        super().__init__(*args, **kwargs)

    def project_label(self, project_id: str) -> str:
        return self.project_names.get(project_id, project_id)


class AuditEventTable(_ProjectNamesMixin, tables.Table):
    created_at = tables.Column(verbose_name="When", order_by=("created_at", "id"))
    actor_name = tables.Column(verbose_name="User", order_by=("actor_name", "id"))
    project = tables.Column(
        verbose_name="Project", accessor="project_id", order_by=("project_id", "id")
    )
    action = tables.Column(verbose_name="Action", order_by=("action", "id"))
    target = tables.Column(
        verbose_name="Snapshot", accessor="target_id", order_by=("target_name", "target_id", "id")
    )
    outcome = tables.Column(verbose_name="Outcome", order_by=("outcome", "id"))
    message = tables.Column(verbose_name="Message", orderable=False)
    # Export only
    id = tables.Column(verbose_name="Event", visible=False)
    actor_id = tables.Column(verbose_name="User ID", visible=False)
    project_id = tables.Column(verbose_name="Project ID", visible=False)
    target_name = tables.Column(verbose_name="Snapshot name", visible=False)
    parameters = tables.Column(verbose_name="Parameters", visible=False)
    status_code = tables.Column(verbose_name="HTTP status", visible=False)
    request_id = tables.Column(verbose_name="Request ID", visible=False)
    client_addr = tables.Column(verbose_name="Client address", visible=False)
    prev_hash = tables.Column(verbose_name="Previous hash", visible=False)
    hash = tables.Column(verbose_name="Hash", visible=False)

    class Meta:
        model = AuditEvent
        fields = ()
        sequence = (
            "created_at",
            "actor_name",
            "project",
            "action",
            "target",
            "outcome",
            "message",
            "...",
        )
        order_by = ("-created_at",)
        empty_text = "No audit events match."
        attrs = {"class": "table table-sm table-hover align-middle", "id": "audit-table"}
        row_attrs = {"data-event": lambda record: record.pk}

    def render_created_at(self, value):
        return time_cell(value)

    def value_created_at(self, value):
        return iso(value)

    def render_project(self, value):
        return reveal_html(self.project_label(value))

    def value_project(self, value):
        return self.project_label(value)

    def render_actor_name(self, value):
        return reveal_html(value)

    def value_actor_name(self, value):
        return value  # exports keep the stored value

    def render_action(self, value):
        return format_html("<code>{}</code>", value)

    def value_action(self, record):
        return record.action

    def render_target(self, record):
        label = record.target_name or record.target_id[:8]
        if getattr(record, "target_is_snapshot", False):
            url = reverse("snapshots:detail", args=[record.target_id])
            return format_html(
                '<a href="{}" title="{}">{}</a>', url, record.target_id, reveal_html(label)
            )
        return format_html('<span title="{}">{}</span>', record.target_id, reveal_html(label))

    def value_target(self, record):
        return record.target_id

    def render_outcome(self, record):
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            OUTCOME_BADGE.get(record.outcome, "secondary"),
            record.get_outcome_display(),
        )

    def value_outcome(self, record):
        return record.outcome  # the code, not its display label: exports are for machines too

    def render_message(self, record):
        text = record.message
        if record.status_code:
            text = f"{record.status_code}: {text}"
        if len(text) > MESSAGE_SHOWN:
            return format_html(
                '<span title="{}">{}\u2026</span>',
                reveal_text(text),
                reveal_html(text[:MESSAGE_SHOWN]),
            )
        return reveal_html(text)

    def value_message(self, value):
        return value

    def value_parameters(self, value):
        return json.dumps(value, sort_keys=True) if value else ""


class StatusChangeTable(_ProjectNamesMixin, tables.Table):
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
    # Export only
    id = tables.Column(verbose_name="Change", visible=False)
    snapshot_name = tables.Column(
        verbose_name="Snapshot name", accessor="snapshot__name", visible=False
    )
    project_id = tables.Column(verbose_name="Project ID", visible=False)
    next_observed_at = tables.Column(verbose_name="Next change", visible=False)
    duration_seconds = tables.Column(
        verbose_name="Seconds", accessor="duration", visible=False, empty_values=()
    )

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
        return time_cell(value)

    def value_observed_at(self, value):
        return iso(value)

    def render_snapshot(self, record):
        url = reverse("snapshots:detail", args=[record.snapshot_id])
        label = record.snapshot.name or record.snapshot_id[:8]
        return format_html(
            '<a href="{}" title="{}">{}</a>', url, record.snapshot_id, reveal_html(label)
        )

    def value_snapshot(self, record):
        return record.snapshot_id

    def render_project(self, value):
        return reveal_html(self.project_label(value))

    def value_project(self, value):
        return self.project_label(value)

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
        return human_duration(record.duration)

    def value_duration(self, record):
        return human_duration(record.duration)

    def value_duration_seconds(self, record):
        return "" if record.duration is None else round(record.duration.total_seconds(), 3)

    def render_progress(self, value):
        return f"{value}%"

    def value_progress(self, record):
        return record.progress

    def value_source(self, record):
        return record.source

    def render_source(self, value):
        return ChangeSource(value).label if value in ChangeSource.values else value

    def value_next_observed_at(self, value):
        return iso(value)
