"""The stuck queue's table: a box per row for the bulk repairs, and each repair one click away.
Snapshot and project names are user data: every cell goes through `format_html` /
`reveal_html` (`reveal_text` in attributes)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from snapshots.choices import Status
from snapshots.formatting import relative_time
from snapshots.models import Snapshot
from snapshots.tables.base import WholeListTable, cell_column
from snapshots.templatetags.list_tags import snapshot_path
from snapshots.templatetags.reveal import reveal_html, reveal_text

STATUS_BADGE = {Status.ERROR_DELETING: "danger", Status.DELETING: "warning"}
SETTABLE = (Status.CREATING, Status.DELETING)
SELECT_ALL = mark_safe(
    '<input class="form-check-input" type="checkbox" data-select-all aria-label="Select all">'
)
REPAIRS = (
    # (route, label, button class, shown for these statuses only)
    ("reset-status", "Reset\u2026", "btn-outline-dark", None),
    ("set-status", "Set status\u2026", "btn-outline-dark", SETTABLE),
    ("force-delete", "Force delete\u2026", "btn-outline-danger", None),
)


class StuckTable(WholeListTable):
    select = cell_column(SELECT_ALL)
    name = cell_column("Name", "snapshot-name")
    status = cell_column("Status")
    project = cell_column("Project")
    stuck_since = cell_column("Stuck since", "text-nowrap")
    size = cell_column("Size", "text-nowrap")
    repairs = cell_column("Repairs", "text-nowrap")

    caption = "Stuck snapshots, longest stuck first"

    class Meta(WholeListTable.Meta):
        template_name = "snapshots/partials/stuck_table.html"
        attrs = {"class": "table table-sm table-hover align-middle", "id": "stuck-table"}

    def __init__(self, snapshots: list[Snapshot]):
        super().__init__(snapshots)
        self._back = reverse("snapshots:stuck")
        self._now = timezone.now()

    def empty_html(self) -> SafeString:
        return format_html(
            '<p class="alert alert-success" role="status" id="nothing-stuck">'
            '<i class="bi bi-check-circle" aria-hidden="true"></i> {}</p>',
            "Nothing is stuck.",
        )

    def row_open(self, record: Snapshot, *, oob: bool = False) -> str:
        return f'<tr data-snapshot="{escape(record.pk)}">'

    def render_select(self, record: Snapshot) -> SafeString:
        return format_html(
            '<input class="form-check-input" type="checkbox" name="ids" value="{}" id="sel-{}"'
            ' aria-label="Select {}">',
            record.pk,
            self.number(record),
            reveal_text(record.name or record.pk),
        )

    def render_name(self, record: Snapshot) -> SafeString:
        return format_html(
            '<a href="{}">{}</a> <span class="mono text-body-secondary d-block">{}</span>',
            snapshot_path("detail", record.pk),
            reveal_html(record.name or "(unnamed)"),
            record.pk,
        )

    def render_status(self, record: Snapshot) -> SafeString:
        html = format_html(
            '<span class="badge text-bg-{}">{}</span>',
            STATUS_BADGE.get(record.status, "info"),
            record.get_status_display(),
        )
        if record.progress is not None and record.status == Status.CREATING:
            html += format_html(' <span class="small">{} %</span>', record.progress)
        return html

    def render_project(self, record: Snapshot) -> SafeString:
        return reveal_html(record.project_name or record.project_id)

    def render_stuck_since(self, record: Snapshot) -> SafeString:
        return relative_time(record.stuck_since, now=self._now)

    def render_size(self, record: Snapshot) -> str:
        return f"{record.size} GiB"

    def render_repairs(self, record: Snapshot) -> SafeString:
        label = reveal_html(record.name or record.pk)
        return mark_safe(  # noqa: S308 (format_html escapes every value)
            " ".join(
                format_html(
                    '<a class="btn btn-sm {}" href="{}?next={}">{}'
                    '<span class="visually-hidden"> {}</span></a>',
                    css,
                    snapshot_path(route, record.pk),
                    self._back,
                    text,
                    label,
                )
                for route, text, css, only in REPAIRS
                if only is None or record.status in only
            )
        )
