"""The volumes page's table: the project's volumes, each with its snapshot count and the
"Snapshot this volume" button. Volume names are user data: every cell goes through
`format_html` / `reveal_html`."""

from __future__ import annotations

from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from snapshots.services.eligibility import VolumeChoice
from snapshots.tables.base import ACTIONS_HEADER, WholeListTable, cell_column
from snapshots.templatetags.reveal import reveal_html, reveal_text

STATUS_BADGE = {"available": "success", "in-use": "primary"}


class VolumeTable(WholeListTable):
    name = cell_column("Name", "snapshot-name")
    size = cell_column("Size", "text-nowrap")
    status = cell_column("Status")
    snapshots = cell_column("Snapshots")
    actions = cell_column(ACTIONS_HEADER, "text-end")

    caption = "Volumes of the project and their snapshots"
    empty_id = "no-volumes"

    class Meta(WholeListTable.Meta):
        empty_text = "This project has no volumes that the dashboard knows of."
        attrs = {"class": "table table-sm table-hover align-middle", "id": "volume-table"}

    def __init__(self, volumes: list[VolumeChoice], *, counts: dict[str, int], may_create: bool):
        super().__init__(volumes)
        self.counts = counts
        self.may_create = may_create
        self._list_url = reverse("snapshots:list")
        self._create_url = reverse("snapshots:create")

    def row_open(self, record: VolumeChoice, *, oob: bool = False) -> str:
        return f'<tr data-volume="{escape(record.id)}">'

    def render_name(self, record: VolumeChoice) -> SafeString:
        if not record.name:
            return reveal_html(record.label)
        return format_html(
            '{} <span class="mono text-body-secondary d-block">{}</span>',
            reveal_html(record.label),
            record.id,
        )

    def render_size(self, record: VolumeChoice) -> str:
        return f"{record.size} GiB"

    def render_status(self, record: VolumeChoice) -> SafeString:
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            STATUS_BADGE.get(record.status, "secondary"),
            record.status or "unknown",
        )

    def render_snapshots(self, record: VolumeChoice) -> SafeString:
        count = self.counts.get(record.id, 0)
        return format_html(
            '<a href="{}?volume={}" aria-label="{} snapshot{} of {}">{}</a>',
            self._list_url,
            quote(record.id, safe="/"),
            count,
            "" if count == 1 else "s",
            reveal_text(record.label),
            count,
        )

    def render_actions(self, record: VolumeChoice) -> SafeString | str:
        if not self.may_create:
            return ""
        if not record.eligible:
            why = f"why-{self.number(record)}"
            return format_html(
                '<button class="btn btn-sm btn-outline-secondary" type="button" disabled'
                ' aria-describedby="{}">Snapshot this volume</button>'
                ' <div class="small text-body-secondary" id="{}">{}</div>',
                why,
                why,
                record.reason,
            )
        html = format_html(
            '<a class="btn btn-sm btn-outline-primary" href="{}?volume={}">Snapshot this volume'
            '<span class="visually-hidden"> ({})</span></a>',
            self._create_url,
            quote(record.id, safe="/"),
            reveal_html(record.label),
        )
        if record.needs_force:
            html += format_html(
                ' <div class="small text-body-secondary">{}</div>', "in use: needs Force"
            )
        return html
