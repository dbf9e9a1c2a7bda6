"""The snapshot table: every column declared, a short default set, sortable everywhere.

Cells are built with `format_html`, which escapes every value: snapshot names, descriptions and
metadata are user data and must render as text. Exports (tables/export.py) take the plain
values: the accessor's, or a `value_<column>` method's; `export_only` columns are for exports.
"""

from __future__ import annotations

from html import escape as h
from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from snapshots.choices import badge
from snapshots.formatting import DASH, relative_time
from snapshots.models import Snapshot
from snapshots.services.eligibility import PermittedActions, permitted_actions
from snapshots.tables.base import STATUS_LABELS, ListTable
from snapshots.templatetags.list_tags import snapshot_path
from snapshots.templatetags.reveal import reveal_html as r

TABLE_NAME = "snapshots"
# Always shown; the chooser cannot hide them (the row must stay identifiable and actionable).
FIXED_COLUMNS = ("name", "status", "actions")
# Offered by the column chooser, in display order.
OPTIONAL_COLUMNS = (
    "id",
    "size",
    "volume",
    "project",
    "user",
    "created",
    "updated",
    "progress",
    "metadata",
    "consumes_quota",
    "age",
)
DEFAULT_COLUMNS = ("id", "size", "volume", "project", "created")
# Only people who see several projects get the project column.
MULTI_PROJECT_COLUMNS = frozenset({"project"})
METADATA_SHOWN = 3


def short_id(value: str) -> str:
    return value[:8]


def status_cell(snapshot: Snapshot) -> SafeString:
    """Badge, stuck flag and (for transitional rows) a progress bar. Shared with the detail page.

    Built with f-strings over escaped values (h()): it runs for every row of every page."""
    label = h(STATUS_LABELS.get(snapshot.status, snapshot.status))
    html = f'<span class="badge text-bg-{h(badge(snapshot.status))} status-badge">{label}</span>'
    if snapshot.is_stuck:
        since = timezone.localtime(snapshot.status_since).strftime("%Y-%m-%d %H:%M")
        html += (
            f' <span class="badge text-bg-dark" title="In this status since {h(since)}">'
            "stuck</span>"
        )
    hint = getattr(snapshot, "failure_hint", "")
    if hint:  # Cinder's user message for a failed snapshot (the workers fetched it)
        short = hint if len(hint) <= 90 else hint[:89] + "\u2026"
        html += f'<div class="small text-danger-emphasis failure-hint">{r(short)}</div>'
    if snapshot.is_transitional:
        progress = int(snapshot.progress or 0)
        width = max(0, min(100, progress))  # a class per percent: the CSP allows no inline style
        html += (
            '<div class="progress snapshot-progress mt-1" role="progressbar" '
            f'aria-label="{label} progress" aria-valuenow="{progress}" aria-valuemin="0" '
            'aria-valuemax="100"><div class="progress-bar progress-bar-striped '
            f'progress-bar-animated pct-{width}"></div></div>'
        )
    return mark_safe(html)  # noqa: S308 (every value above is escaped)


ACTION_LINKS = (
    # (act, route, label, extra class)
    ("edit", "edit", "Edit name and description", ""),
    ("edit", "metadata", "Edit metadata", ""),
)
REPAIR_LINKS = (
    ("reset_status", "reset-status", "Reset status\u2026", ""),
    ("set_status", "set-status", "Set status and progress\u2026", ""),
    ("force_delete", "force-delete", "Force delete\u2026", " text-danger"),
)


def _link(pk: str, route: str, label: str, extra: str) -> str:
    return (
        f'<li><a class="dropdown-item{extra}" href="{h(snapshot_path(route, pk))}">{label}</a></li>'
    )


def row_actions_html(snapshot: Snapshot, acts: PermittedActions) -> SafeString:
    """The row's action dropdown: only the actions `acts` allows; a delete Cinder would refuse
    is shown disabled with the reason."""
    if not acts.any:
        return SafeString("")
    pk = snapshot.pk
    items = [
        _link(pk, route, label, extra)
        for act, route, label, extra in ACTION_LINKS
        if getattr(acts, act)
    ]
    if acts.delete:
        if acts.delete_reason:
            items.append(
                '<li><span class="dropdown-item disabled text-wrap" aria-disabled="true">Delete '
                f'<small class="d-block">{h(str(acts.delete_reason))}</small></span></li>'
            )
        else:
            items.append(_link(pk, "delete", "Delete\u2026", " text-danger"))
    if acts.admin:
        items.append('<li><hr class="dropdown-divider"></li>')
        items.append('<li><h6 class="dropdown-header">Admin repairs</h6></li>')
        items.extend(_link(pk, *link) for act, *link in REPAIR_LINKS if getattr(acts, act))
    return mark_safe(  # noqa: S308 (every value above is escaped)
        '<div class="dropdown row-actions"><button class="btn btn-sm btn-outline-secondary '
        'dropdown-toggle" type="button" data-bs-toggle="dropdown" aria-expanded="false">Actions'
        f'<span class="visually-hidden"> for {r(snapshot.name or pk)}</span></button>'
        f'<ul class="dropdown-menu dropdown-menu-end">{"".join(items)}</ul></div>'
    )


class RowActionsColumn(tables.Column):
    """The row's action dropdown (SnapshotTable.render_actions); never exported."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            empty_values=(),
            orderable=False,
            exclude_from_export=True,
            verbose_name="Actions",
            attrs={"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}},
            **kwargs,
        )


class SnapshotTable(ListTable):
    name = tables.Column(
        verbose_name="Name",
        order_by=("name", "id"),
        empty_values=(),  # render_name shows "unnamed"
        attrs={"td": {"class": "snapshot-name"}},
    )
    id = tables.Column(verbose_name="ID", order_by=("id",), attrs={"td": {"class": "text-nowrap"}})
    status = tables.Column(verbose_name="Status", order_by=("status", "id"))
    size = tables.Column(
        verbose_name="Size", order_by=("size", "id"), attrs={"td": {"class": "text-nowrap"}}
    )
    volume = tables.Column(
        verbose_name="Volume",
        accessor="volume_name",
        order_by=("volume_name", "volume_id", "id"),
        empty_values=(),
        attrs={"td": {"class": "snapshot-name"}},
    )
    project = tables.Column(
        verbose_name="Project",
        accessor="project_name",
        order_by=("project_name", "project_id", "id"),
        empty_values=(),
    )
    user = tables.Column(verbose_name="User", accessor="user_id", order_by=("user_id", "id"))
    created = tables.Column(
        verbose_name="Created", accessor="created_at", order_by=("created_at", "id")
    )
    updated = tables.Column(
        verbose_name="Updated", accessor="updated_at", order_by=("updated_at", "id")
    )
    progress = tables.Column(verbose_name="Progress", order_by=("progress", "id"))
    metadata = tables.Column(verbose_name="Metadata", order_by=("metadata", "id"))
    consumes_quota = tables.Column(
        verbose_name="Consumes quota", order_by=("consumes_quota", "id"), empty_values=()
    )
    # Age grows as created_at shrinks: ascending age is descending creation time.
    age = tables.Column(
        verbose_name="Age",
        accessor="created_at",
        order_by=("-created_at", "-id"),
        empty_values=(),
        exclude_from_export=True,  # "Created" holds the time itself
    )
    actions = RowActionsColumn()
    # Export only: added when the table is built for an export (ExportColumnsMixin).
    export_only = {
        "description": tables.Column(verbose_name="Description"),
        "volume_id": tables.Column(verbose_name="Volume ID"),
        "project_id": tables.Column(verbose_name="Project ID"),
        "group_snapshot_id": tables.Column(verbose_name="Group snapshot ID"),
        "stuck_since": tables.Column(verbose_name="Stuck since"),
    }

    class Meta:
        model = Snapshot
        fields = ()
        sequence = ("name", "id", "status", *OPTIONAL_COLUMNS[1:], "actions", "...")
        order_by = ("-created",)
        per_page = 25
        template_name = "snapshots/partials/table.html"
        empty_text = "No snapshots match."
        attrs = {"class": "table table-sm table-hover align-middle mb-0", "id": "snapshot-table"}

    def __init__(
        self,
        *args,
        columns: tuple[str, ...] | list[str] | None = None,
        project_names: dict[str, str] | None = None,
        several_projects: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.live_update = False  # rows rendered for a live swap flash once
        self.highlight = ""  # the id of a row to flash (the snapshot just created)
        self.project_names = project_names or {}
        self.offered = tuple(
            name
            for name in OPTIONAL_COLUMNS
            if several_projects or name not in MULTI_PROJECT_COLUMNS
        )
        chosen = set(columns) if columns else set(DEFAULT_COLUMNS)
        self.chosen = tuple(name for name in self.offered if name in chosen)
        for name in OPTIONAL_COLUMNS:
            if name not in self.chosen:
                self.columns.hide(name)
        self._list_url = reverse("snapshots:list")
        self._now = timezone.now()

    # -- rows (FastRowsMixin builds the cells) ------------------------------------------------
    def row_open(self, record: Snapshot, *, oob: bool = False) -> str:
        """Transitional rows are marked for the live poll; new and changed rows flash once."""
        classes = []
        if record.is_transitional:
            classes.append("row-transitional")
        if self.live_update or record.pk == self.highlight:
            classes.append("row-updated")
        swap = ' hx-swap-oob="true"' if oob else ""
        return (
            f'<tr id="row-{escape(record.pk)}" data-version="{int(record.version)}"'
            f' class="{" ".join(classes)}"{swap}>'
        )

    def first_cell_prefix(self, record: Snapshot) -> str:
        """Transitional rows carry the id:version the live poll sends back."""
        if not record.is_transitional:
            return ""
        return (
            f'<input type="hidden" name="row" value="{escape(record.pk)}:{int(record.version)}"'
            " data-live>"
        )

    def page_rows_html(self):
        return self.rows_html()

    def live_rows_html(self):
        return [self.row_html(row.record, oob=True) for row in self.rows]

    # -- cells ---------------------------------------------------------------------------------
    def _detail_url(self, snapshot_id: str) -> str:
        return snapshot_path("detail", snapshot_id)

    # The cells of every row: f-strings over escaped values (h()), a third of format_html's cost.
    def render_name(self, record):
        url = h(self._detail_url(record.pk))
        if record.name:
            return mark_safe(f'<a href="{url}">{r(record.name)}</a>')  # noqa: S308
        return mark_safe(  # noqa: S308
            f'<a href="{url}"><span class="fst-italic">unnamed</span>'
            f'<span class="visually-hidden"> snapshot {h(short_id(record.pk))}</span></a>'
        )

    def render_id(self, record):
        pk = h(record.pk)
        return mark_safe(  # noqa: S308
            f'<code class="mono" title="{pk}">{h(short_id(record.pk))}</code> '
            '<button type="button" class="btn btn-link btn-sm p-0 align-baseline copy-id" '
            f'data-copy="{pk}" aria-label="Copy ID {pk}" title="Copy ID">'
            '<i class="bi bi-clipboard" aria-hidden="true"></i></button>'
        )

    def render_status(self, record):
        return status_cell(record)

    def render_size(self, record):
        return f"{record.size} GiB"

    def render_volume(self, record):
        label = r(record.volume_name or short_id(record.volume_id))
        url = h(f"{self._list_url}?volume={quote(record.volume_id, safe='')}")
        return mark_safe(  # noqa: S308
            f'<a href="{url}" title="Snapshots of volume {h(record.volume_id)}">{label}</a>'
        )

    def render_project(self, record):
        name = self.project_names.get(record.project_id) or record.project_name
        return mark_safe(  # noqa: S308
            f'<span title="{h(record.project_id)}">{r(name or record.project_id)}</span>'
        )

    def render_user(self, record):
        if not record.user_id:
            return DASH
        return mark_safe(  # noqa: S308
            f'<span class="mono" title="{h(record.user_id)}">{h(short_id(record.user_id))}</span>'
        )

    def render_created(self, record):
        return relative_time(record.created_at, now=self._now)

    def render_updated(self, record):
        return relative_time(record.updated_at, now=self._now)

    def render_progress(self, record):
        return DASH if record.progress is None else f"{record.progress}%"

    def render_metadata(self, record):
        if not record.metadata:
            return DASH
        items = sorted(record.metadata.items())
        html = format_html_join(
            " ",
            '<span class="badge text-bg-light border metadata-item">{}={}</span>',
            ((r(key), r(value)) for key, value in items[:METADATA_SHOWN]),
        )
        if len(items) > METADATA_SHOWN:
            html += format_html(
                ' <span class="text-body-secondary">+{} more</span>', len(items) - METADATA_SHOWN
            )
        return html

    def value_project(self, record):
        return self.project_names.get(record.project_id) or record.project_name

    def render_consumes_quota(self, record):
        return {True: "Yes", False: "No"}.get(record.consumes_quota, DASH)

    def render_age(self, record):
        return relative_time(record.created_at, suffix="", now=self._now)

    def render_actions(self, record):
        """The actions this user may take on this row (permissions.can per object, through
        permitted_actions), as a dropdown; built here, not by a template per row (it was the
        largest part of the list's time)."""
        return row_actions_html(record, permitted_actions(self._scope(), record))

    def _scope(self):
        return getattr(getattr(self, "request", None), "dashboard_scope", None)
