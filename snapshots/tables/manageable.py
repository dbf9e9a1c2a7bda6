"""The manageable-snapshots page's table: what one backend host holds, and whether each entry
can be brought under Cinder's management. References, volume names and the host are user data:
every cell goes through `format_html` / `reveal_html`."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from snapshots.formatting import DASH
from snapshots.models import ManageableSnapshot, Volume
from snapshots.tables.base import ACTIONS_HEADER, WholeListTable, cell_column
from snapshots.templatetags.list_tags import snapshot_path
from snapshots.templatetags.reveal import reveal_html


class ManageableTable(WholeListTable):
    reference = cell_column("Reference", "mono text-break-all")
    size = cell_column("Size", "text-nowrap")
    source_volume = cell_column("Source volume")
    managed = cell_column("Managed by Cinder")
    actions = cell_column(ACTIONS_HEADER, "text-end")

    empty_id = "no-manageable"

    class Meta(WholeListTable.Meta):
        attrs = {"class": "table table-sm table-hover align-middle", "id": "manageable-table"}

    def __init__(self, entries: list[ManageableSnapshot], *, host: str, volumes: dict[str, Volume]):
        super().__init__(entries)
        self.volumes = volumes
        self.caption = format_html("Snapshots on {}", reveal_html(host))
        self.empty_text = format_html(
            "Nothing listed for {} yet. Use \u201cRead from Cinder\u201d to ask the backend.",
            reveal_html(host),
        )
        self._manage_url = reverse("snapshots:manage")

    def row_open(self, record: ManageableSnapshot, *, oob: bool = False) -> str:
        return f'<tr data-reference="{escape(record.name)}">'

    def render_reference(self, record: ManageableSnapshot) -> SafeString:
        return reveal_html(record.name)

    def render_size(self, record: ManageableSnapshot) -> str:
        return f"{record.size} GiB"

    def render_source_volume(self, record: ManageableSnapshot) -> SafeString:
        volume = self.volumes.get(record.source_volume_id)
        if volume is None:
            return format_html('<span class="mono">{}</span>', record.source_volume_id or DASH)
        return format_html(
            '{} <span class="mono text-body-secondary d-block">{}</span>',
            reveal_html(volume.name or "unnamed"),
            volume.pk,
        )

    def render_managed(self, record: ManageableSnapshot) -> SafeString | str:
        if not record.cinder_id:
            return "No"
        return format_html(
            '<a href="{}" class="mono">{}</a>',
            snapshot_path("detail", record.cinder_id),
            record.cinder_id,
        )

    def render_actions(self, record: ManageableSnapshot) -> SafeString:
        if record.safe_to_manage:
            return format_html(
                '<a class="btn btn-sm btn-outline-primary" href="{}?entry={}">Manage\u2026'
                '<span class="visually-hidden"> {}</span></a>',
                self._manage_url,
                record.pk,
                reveal_html(record.name),
            )
        return format_html(
            '<span class="small text-body-secondary">{}</span>',
            reveal_html(record.reason_not_safe or "not safe to manage"),
        )
