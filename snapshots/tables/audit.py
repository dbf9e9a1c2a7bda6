"""The audit log's table.

Every cell goes through `format_html` (names, messages and parameters are user data). Columns
in `export_only` appear only in exports; `value_*` methods give exports plain values.
"""

from __future__ import annotations

import json

import django_tables2 as tables
from django.utils.html import escape, format_html

from snapshots.choices import Outcome
from snapshots.formatting import exact_time
from snapshots.models import AuditEvent
from snapshots.tables.base import ListTable, ProjectNamesMixin
from snapshots.templatetags.list_tags import snapshot_path
from snapshots.templatetags.reveal import reveal_html, reveal_text

OUTCOME_BADGE = {
    Outcome.SUCCESS: "success",
    Outcome.REFUSED: "danger",
    Outcome.DENIED: "warning",
    Outcome.FAILED: "secondary",
}
MESSAGE_SHOWN = 140


class AuditEventTable(ProjectNamesMixin, ListTable):
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
    # Export only: added when the table is built for an export (ExportColumnsMixin).
    export_only = {
        "id": tables.Column(verbose_name="Event"),
        "actor_id": tables.Column(verbose_name="User ID"),
        "project_id": tables.Column(verbose_name="Project ID"),
        "target_name": tables.Column(verbose_name="Snapshot name"),
        "parameters": tables.Column(verbose_name="Parameters"),
        "status_code": tables.Column(verbose_name="HTTP status"),
        "request_id": tables.Column(verbose_name="Request ID"),
        "client_addr": tables.Column(verbose_name="Client address"),
        "prev_hash": tables.Column(verbose_name="Previous hash"),
        "hash": tables.Column(verbose_name="Hash"),
    }

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

    def row_open(self, record, *, oob: bool = False) -> str:
        return f'<tr data-event="{escape(record.pk)}">'

    def render_created_at(self, value):
        return exact_time(value)

    def render_actor_name(self, value):
        return reveal_html(value)

    def render_action(self, value):
        return format_html("<code>{}</code>", value)

    def value_action(self, record):
        return record.action

    def render_target(self, record):
        label = record.target_name or record.target_id[:8]
        if getattr(record, "target_is_snapshot", False):
            url = snapshot_path("detail", record.target_id)
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
