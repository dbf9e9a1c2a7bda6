"""Exports of any list: the table's own columns, every filtered row in the table's order.

The columns are the table's (hidden ones and, when it is built with `exporting=True`, its
`export_only` ones included; `exclude_from_export` ones left out), headed by their labels; a
`value_<column>` method of the table gives a column its plain value, otherwise the accessor's
value is written as it is.

CSV and JSON stream from chunked queries: the first bytes leave at once and memory stays
flat whatever the number of rows. XLSX is a zip that is written at the end, so it is built
with openpyxl's write-only workbook into a temporary file (flat memory), then streamed from
that file; it is capped at `settings.EXPORT_XLSX_MAX_ROWS` rows, which the page says.

Spreadsheets run text that starts like a formula: `defuse()` is the one place that prefixes
such text with an apostrophe (CSV; XLSX cells are typed as text instead). Cinder accepts
control characters in names, which the XLSX format cannot hold: `xlsx_text()` shows them as
U+FFFD in XLSX cells only.
"""

from __future__ import annotations

import csv
import inspect
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django_tables2 import Table

from snapshots.tables.base import resolver

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What an XLSX cell cannot hold (openpyxl raises IllegalCharacterError on it).
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def defuse(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def xlsx_text(text: str) -> str:
    return XLSX_ILLEGAL.sub("\ufffd", text)


@dataclass(frozen=True)
class ExportColumn:
    name: str
    header: str  # CSV and XLSX: the column's label, as people read it
    key: str  # JSON: the column's name (`project`, `project_id`), unique and stable for programs
    value: Callable[[object], object]


def _value_getter(table: Table, bound_column) -> Callable[[object], object]:
    """record -> plain value of one column: `value_<name>(value=, record=)` or the accessor."""
    raw = resolver(bound_column.accessor)
    method = getattr(table, f"value_{bound_column.name}", None)
    if method is None:
        return raw
    wanted = set(inspect.signature(method).parameters)
    if wanted == {"record"}:
        return lambda record: method(record=record)
    if wanted == {"value"}:
        return lambda record: method(value=raw(record))
    return lambda record: method(record=record, value=raw(record))


def export_columns(table: Table) -> list[ExportColumn]:
    return [
        ExportColumn(
            column.name,
            str(column.header),
            column.name,
            _value_getter(table, column),
        )
        for column in table.columns.iterall()
        if not column.column.exclude_from_export
    ]


def rows(columns: list[ExportColumn], queryset: QuerySet) -> Iterator[list]:
    # Chunks of ordinary queries, not QuerySet.iterator(): on PostgreSQL that holds a server-side
    # cursor, and a download the client abandons would close it outside its transaction.
    start = 0
    while True:
        chunk = list(queryset[start : start + CHUNK])
        for record in chunk:
            yield [column.value(record) for column in columns]
        if len(chunk) < CHUNK:
            return
        start += CHUNK


# -- one cell, per format ---------------------------------------------------------------------
def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str):
        return defuse(value)
    return str(value)


def json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()  # full precision (DjangoJSONEncoder cuts to milliseconds)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def xlsx_cell(sheet, value):
    """A text cell typed as text (never a formula), other values as they are."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    elif value is None or isinstance(value, bool | int | float | Decimal | date):
        return value
    cell = WriteOnlyCell(sheet, value=xlsx_text(str(value)))
    cell.data_type = "s"
    return cell


# -- whole files ------------------------------------------------------------------------------
class _Echo:
    """A file whose write() returns the line: lets csv.writer feed a generator."""

    def write(self, value: str) -> str:
        return value


def stream_csv(headers: list[str], values: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(headers)
    for row in values:
        yield writer.writerow([csv_cell(v) for v in row])


def stream_json(headers: list[str], values: Iterable[list]) -> Iterator[str]:
    yield "["
    first = True
    for row in values:
        item = dict(zip(headers, row, strict=True))
        yield ("" if first else ",") + "\n" + json.dumps(item, default=json_value)
        first = False
    yield "\n]\n"


def write_xlsx(headers: list[str], values: Iterable[list], target, *, title: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([xlsx_cell(sheet, h) for h in headers])
    for row in values:
        sheet.append([xlsx_cell(sheet, v) for v in row])
    book.save(target)


def xlsx_max_rows() -> int:
    return settings.EXPORT_XLSX_MAX_ROWS


def export_response(
    fmt: str, table: Table, *, name: str, title: str
) -> StreamingHttpResponse | FileResponse:
    """The download of every row of `table` (its filtered, ordered queryset) in `fmt`."""
    columns = export_columns(table)
    headers = [column.header for column in columns]
    queryset = table.data.data
    stamp = f"{name}-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            stream_csv(headers, rows(columns, queryset)), content_type=FORMATS[fmt]
        )
    elif fmt == "json":
        response = StreamingHttpResponse(
            stream_json([column.key for column in columns], rows(columns, queryset)),
            content_type=FORMATS[fmt],
        )
    elif fmt == "xlsx":
        # Not a `with`: the response closes (and so removes) the file once it is sent.
        spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
        try:
            write_xlsx(headers, rows(columns, queryset[: xlsx_max_rows()]), spool, title=title)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        response = FileResponse(spool, content_type=FORMATS[fmt])
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response["Content-Disposition"] = f'attachment; filename="{stamp}"'
    response["Cache-Control"] = "no-store"
    return response
