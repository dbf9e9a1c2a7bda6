"""Exports of the filtered, ordered snapshot list: CSV, JSON and XLSX with plain values.

CSV and JSON are streamed from `QuerySet.iterator()`, so exporting 100,000 rows never holds them
all in memory. XLSX cannot be streamed (a zip written at the end); it is built with openpyxl's
write-only workbook, which keeps memory flat, and every text cell is typed as text so a name
such as `=HYPERLINK(...)` stays a string instead of becoming a formula. CSV has no cell types,
so text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from snapshots.models import Snapshot

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FIELDS = (
    "id",
    "name",
    "description",
    "status",
    "progress",
    "size",
    "volume_id",
    "volume_name",
    "project_id",
    "project_name",
    "user_id",
    "created_at",
    "updated_at",
    "consumes_quota",
    "metadata",
    "group_snapshot_id",
    "stuck_since",
)
CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row_values(snapshot: Snapshot, project_names: dict[str, str] | None = None) -> dict:
    """One snapshot as plain values (the JSON shape; CSV and XLSX flatten it)."""
    values = {name: getattr(snapshot, name) for name in FIELDS}
    if not values["project_name"] and project_names:
        values["project_name"] = project_names.get(snapshot.project_id, "")
    return values


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() returns the line: lets csv.writer feed a generator."""

    def write(self, value: str) -> str:
        return value


def _rows(queryset: QuerySet[Snapshot], project_names) -> Iterator[dict]:
    for snapshot in queryset.iterator(chunk_size=CHUNK):
        yield row_values(snapshot, project_names)


def stream_csv(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(FIELDS)
    for values in rows:
        yield writer.writerow([csv_cell(values[name]) for name in FIELDS])


def _json_value(value):
    """Full ISO 8601 times (DjangoJSONEncoder would cut them to milliseconds)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def stream_json(rows: Iterable[dict]) -> Iterator[str]:
    yield "["
    first = True
    for values in rows:
        yield ("" if first else ",") + "\n" + json.dumps(values, default=_json_value)
        first = False
    yield "\n]\n"


def build_xlsx(rows: Iterable[dict]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Snapshots")
    sheet.append(list(FIELDS))
    for values in rows:
        cells = []
        for name in FIELDS:
            value = values[name]
            if isinstance(value, datetime):
                value = value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
            elif isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def filename(fmt: str) -> str:
    return f"snapshots-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"


def export_response(
    fmt: str, queryset: QuerySet[Snapshot], *, project_names: dict[str, str] | None = None
) -> HttpResponse | StreamingHttpResponse:
    """The download for `fmt` (one of FORMATS) of exactly `queryset`, in its order."""
    rows = _rows(queryset, project_names)
    if fmt == "csv":
        response = StreamingHttpResponse(stream_csv(rows), content_type=FORMATS[fmt])
    elif fmt == "json":
        response = StreamingHttpResponse(stream_json(rows), content_type=FORMATS[fmt])
    elif fmt == "xlsx":
        response = HttpResponse(build_xlsx(rows), content_type=FORMATS[fmt])
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response["Content-Disposition"] = f'attachment; filename="{filename(fmt)}"'
    response["Cache-Control"] = "no-store"
    return response
