"""Exports: exactly the filtered, ordered rows, as plain values, in CSV, JSON and XLSX.

The columns are the table's own (tables/snapshots.py), export-only ones included."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
from django.http import StreamingHttpResponse

from snapshots.models import Snapshot
from snapshots.tests.factories import make_snapshot
from snapshots.tests.views.browse_helpers import (  # noqa: F401 (fixtures)
    projects_fixture,
    seeded_fixture,
)

pytestmark = pytest.mark.django_db

FILTER = {"status": ["available", "error", "creating"], "sort": "-size"}
# Header -> the mirror's field it holds, in the table's column order.
COLUMNS = {
    "Name": "name",
    "ID": "id",
    "Status": "status",
    "Size": "size",
    "Volume": "volume_name",
    "Project": "project_name",
    "User": "user_id",
    "Created": "created_at",
    "Updated": "updated_at",
    "Progress": "progress",
    "Metadata": "metadata",
    "Consumes quota": "consumes_quota",
    "Description": "description",
    "Volume ID": "volume_id",
    "Project ID": "project_id",
    "Group snapshot ID": "group_snapshot_id",
    "Stuck since": "stuck_since",
}
FIELDS = tuple(COLUMNS)
# JSON is keyed by the table's column names (CSV and XLSX by their labels).
LABEL = {
    "name": "Name",
    "id": "ID",
    "status": "Status",
    "size": "Size",
    "volume": "Volume",
    "project": "Project",
    "user": "User",
    "created": "Created",
    "updated": "Updated",
    "progress": "Progress",
    "metadata": "Metadata",
    "consumes_quota": "Consumes quota",
    "description": "Description",
    "volume_id": "Volume ID",
    "project_id": "Project ID",
    "group_snapshot_id": "Group snapshot ID",
    "stuck_since": "Stuck since",
}


def expected(project_ids: set[str] | None = None) -> list[Snapshot]:
    qs = Snapshot.objects.live().filter(status__in=FILTER["status"])
    if project_ids is not None:
        qs = qs.filter(project_id__in=project_ids)
    return list(qs.order_by("-size", "-id"))


def body(response) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)
    return response.content


def parse(fmt: str, response) -> list[dict]:
    data = body(response)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    if fmt == "json":  # keyed by column name; every key must be one of the table's columns
        return [{LABEL[key]: value for key, value in row.items()} for row in json.loads(data)]
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def as_text(fmt: str, value):
    """How a field of the mirror row looks in each format."""
    if fmt == "json":
        return value.isoformat() if isinstance(value, datetime) else value
    if fmt == "xlsx":
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None, microsecond=value.microsecond)
        if isinstance(value, dict):
            return json.dumps(value, sort_keys=True)
        return "" if value == "" else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
@pytest.mark.parametrize(
    ("user", "visible"),
    [("demo", {"alpha"}), ("auditor", {"alpha", "beta", "gamma"}), ("admin", None)],
)
def test_export_is_the_filtered_ordered_list(login, seeded, projects, fmt, user, visible):
    client = login(user, project="alpha")
    response = client.get("/snapshots/", {**FILTER, "export": fmt, "page": 2, "per_page": 25})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="snapshots-')
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    if fmt in ("csv", "json"):
        assert isinstance(response, StreamingHttpResponse)
    rows = parse(fmt, response)
    want = expected(None if visible is None else {projects[p] for p in visible})
    assert want, "the seeded data must match the filter"
    assert [row["ID"] for row in rows] == [s.pk for s in want]  # all pages, in order
    for row, snapshot in zip(rows, want, strict=True):
        assert list(row) == list(FIELDS)
        for field in FIELDS:
            got, value = row[field], as_text(fmt, getattr(snapshot, COLUMNS[field]))
            if fmt == "xlsx" and isinstance(value, datetime):
                assert abs((got - value).total_seconds()) < 0.001, field
            elif fmt == "xlsx" and value in ("", None):
                assert got in ("", None), field
            else:
                assert got == value, field


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_holds_no_html(login, projects, fmt):
    evil = '<b onclick="x()">bold</b>'
    make_snapshot(projects["alpha"], name=evil, status="creating", progress=10)
    rows = parse(fmt, login("admin").get("/snapshots/", {"export": fmt}))
    assert rows[0]["Name"] == evil  # the text itself, not escaped, not rendered
    assert rows[0]["Status"] == "creating"  # not the badge
    assert "<span" not in json.dumps(rows, default=str)


def test_csv_defuses_formulas_xlsx_keeps_text(login, projects):
    formula = '=HYPERLINK("http://evil.example","click")'
    make_snapshot(projects["alpha"], name=formula)
    client = login("admin")
    csv_rows = parse("csv", client.get("/snapshots/", {"export": "csv"}))
    assert csv_rows[0]["Name"] == "'" + formula
    data = body(client.get("/snapshots/", {"export": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cell = sheet.cell(row=2, column=FIELDS.index("Name") + 1)
    assert cell.value == formula
    assert cell.data_type == "s"  # a string, never a formula


@pytest.mark.parametrize("url", ["/snapshots/", "/snapshots/audit/", "/snapshots/history/"])
@pytest.mark.parametrize("fmt", ["pdf", "", "x", "csv "])
def test_unknown_format_is_a_bad_request_on_every_list(login, seeded, url, fmt):
    response = login("admin").get(url, {"export": fmt})
    assert response.status_code == 400
    assert "Unknown export format" in response.content.decode()


def test_export_query_count_is_bounded(login, projects, django_assert_max_num_queries):
    for i in range(300):
        make_snapshot(projects["alpha"], history=False, name=f"bulk-{i:03d}")
    client = login("admin")
    with django_assert_max_num_queries(10):
        response = client.get("/snapshots/", {"export": "csv", "sort": "name"})
        rows = parse("csv", response)  # streaming: the queries run while reading
    assert len(rows) == 300
    assert [r["Name"] for r in rows] == sorted(r["Name"] for r in rows)


def test_empty_export_has_headers(login, projects):
    rows = body(login("demo").get("/snapshots/", {"export": "csv", "q": "nothing-like-this"}))
    assert rows.decode().strip() == ",".join(FIELDS)
    assert json.loads(body(login("demo").get("/snapshots/", {"export": "json", "q": "zz"}))) == []


@pytest.mark.parametrize("url", ["/snapshots/", "/snapshots/audit/", "/snapshots/history/"])
def test_control_characters_do_not_break_xlsx(login, projects, url):
    """Cinder accepts them in names; XLSX cannot hold them: shown as U+FFFD there only."""
    from snapshots.tests.factories_audit import event, make_scope

    name = "nightly\x01\x07bell\x1b[0m\r\n\t"
    snapshot = make_snapshot(projects["alpha"], name=name, status="creating", progress=10)
    event(make_scope("admin", projects["alpha"]), target=snapshot, message=name)
    client = login("admin")
    response = client.get(url, {"export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    texts = [v for row in sheet.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert any(t.startswith("nightly\ufffd\ufffdbell\ufffd[0m") for t in texts), texts
    csv_rows = parse("csv", client.get(url, {"export": "csv"}))
    assert any(name in row.values() for row in csv_rows)  # CSV keeps what Cinder holds


def test_xlsx_is_capped_and_the_page_says_so(login, projects, settings):
    settings.EXPORT_XLSX_MAX_ROWS = 3
    for i in range(5):
        make_snapshot(projects["alpha"], history=False, name=f"row-{i}")
    client = login("admin")
    rows = parse("xlsx", client.get("/snapshots/", {"export": "xlsx", "sort": "name"}))
    assert [r["Name"] for r in rows] == ["row-0", "row-1", "row-2"]
    assert len(parse("csv", client.get("/snapshots/", {"export": "csv"}))) == 5
    page = client.get("/snapshots/").content.decode()
    assert 'id="export-cap"' in page and "XLSX the first 3" in page


def test_csv_starts_before_every_row_is_read(login, projects):
    """Streamed: the response is returned before the rows are read, and they are read in
    chunks as the body is consumed."""
    for i in range(30):
        make_snapshot(projects["alpha"], history=False, name=f"row-{i:02d}")
    response = login("admin").get("/snapshots/", {"export": "csv", "sort": "name"})
    assert isinstance(response, StreamingHttpResponse)
    chunks = iter(response.streaming_content)
    assert next(chunks).decode().startswith("Name,ID,Status")
    assert next(chunks).decode().startswith("row-00,")


def test_readers_export_but_only_what_they_read(login, seeded, projects):
    rows = parse("csv", login("demo", project="alpha").get("/snapshots/", {"export": "csv"}))
    assert rows and {r["Project ID"] for r in rows} == {projects["alpha"]}
