"""Exports: exactly the filtered, ordered rows, as plain values, in CSV, JSON and XLSX."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
from django.http import StreamingHttpResponse

from snapshots.exports import FIELDS
from snapshots.models import Snapshot
from snapshots.tests.factories import make_snapshot
from snapshots.tests.views.browse_helpers import (  # noqa: F401 (fixtures)
    projects_fixture,
    seeded_fixture,
)

pytestmark = pytest.mark.django_db

FILTER = {"status": ["available", "error", "creating"], "sort": "-size"}


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
    if fmt == "json":
        return json.loads(data)
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
    assert [row["id"] for row in rows] == [s.pk for s in want]  # all pages, in order
    for row, snapshot in zip(rows, want, strict=True):
        assert list(row) == list(FIELDS)
        for field in FIELDS:
            got, value = row[field], as_text(fmt, getattr(snapshot, field))
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
    assert rows[0]["name"] == evil  # the text itself, not escaped, not rendered
    assert rows[0]["status"] == "creating"  # not the badge
    assert "<span" not in json.dumps(rows, default=str)


def test_csv_defuses_formulas_xlsx_keeps_text(login, projects):
    formula = '=HYPERLINK("http://evil.example","click")'
    make_snapshot(projects["alpha"], name=formula)
    client = login("admin")
    csv_rows = parse("csv", client.get("/snapshots/", {"export": "csv"}))
    assert csv_rows[0]["name"] == "'" + formula
    data = body(client.get("/snapshots/", {"export": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cell = sheet.cell(row=2, column=FIELDS.index("name") + 1)
    assert cell.value == formula
    assert cell.data_type == "s"  # a string, never a formula


def test_unknown_format_falls_back_to_the_page(login, seeded):
    response = login("demo").get("/snapshots/", {"export": "pdf"})
    assert response.status_code == 200
    assert 'Unknown export format "pdf"' in response.content.decode()


def test_export_query_count_is_bounded(login, projects, django_assert_max_num_queries):
    for i in range(300):
        make_snapshot(projects["alpha"], history=False, name=f"bulk-{i:03d}")
    client = login("admin")
    with django_assert_max_num_queries(10):
        response = client.get("/snapshots/", {"export": "csv", "sort": "name"})
        rows = parse("csv", response)  # streaming: the queries run while reading
    assert len(rows) == 300
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)


def test_empty_export_has_headers(login, projects):
    rows = body(login("demo").get("/snapshots/", {"export": "csv", "q": "nothing-like-this"}))
    assert rows.decode().strip() == ",".join(FIELDS)
    assert json.loads(body(login("demo").get("/snapshots/", {"export": "json", "q": "zz"}))) == []
