"""Rows of every list: the shared row renderer writes what django-tables2 would, and the row
actions follow the role."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.utils.html import conditional_escape
from django_tables2.rows import BoundRow

from snapshots.models import AuditEvent, Snapshot, StatusChange
from snapshots.selectors.audit import visible_changes
from snapshots.tables import AuditEventTable, SnapshotTable, StatusChangeTable
from snapshots.tables.snapshots import OPTIONAL_COLUMNS
from snapshots.tests.factories import make_snapshot
from snapshots.tests.factories_audit import event, make_scope, move
from snapshots.tests.views.browse_helpers import (  # noqa: F401 (fixtures)
    projects_fixture,
    seeded_fixture,
)

pytestmark = pytest.mark.django_db

CELL = re.compile(r"<td [^>]*>(.*?)</td>", re.S)


def _cells_as_django_tables2_renders_them(table, record) -> list[str]:
    """What `{{ cell }}` writes for each cell of django-tables2's own row (escaped)."""
    row = BoundRow(record, table=table)
    return [str(conditional_escape(row.get_cell(column.name))) for column in table.columns]


def _assert_same_cells(table, records):
    assert records
    for record in records:
        ours = CELL.findall(str(table.row_html(record)))
        ours[0] = ours[0].removeprefix(table.first_cell_prefix(record))  # the live-poll marker
        theirs = _cells_as_django_tables2_renders_them(table, record)
        assert ours == theirs


def test_snapshot_rows(seeded, projects):
    hostile = make_snapshot(
        projects["alpha"], name='<img src=x onerror="alert(1)">', status="error"
    )
    request = RequestFactory().get("/snapshots/")
    request.dashboard_scope = make_scope("admin", projects["alpha"])
    records = list(Snapshot.objects.all())
    table = SnapshotTable(records, columns=list(OPTIONAL_COLUMNS), several_projects=True)
    table.request = request
    table.columns.hide("actions")  # a template of its own; its output is checked below
    _assert_same_cells(table, records)
    html = str(table.row_html(hostile))
    assert "<img" not in html and "&lt;img src=x" in html


def test_audit_and_history_rows(projects):
    snap = make_snapshot(projects["alpha"], name="<b>x</b>", status="creating")
    scope = make_scope("admin", projects["alpha"])
    event(scope, target=snap, message='=HYPERLINK("x") <i>')
    event(scope, target=snap, message="")
    from django.utils import timezone

    move(snap, "available", timezone.now())
    audit = AuditEventTable(AuditEvent.objects.all(), project_names={projects["alpha"]: "<a>"})
    _assert_same_cells(audit, list(AuditEvent.objects.all()))
    history = StatusChangeTable(visible_changes(scope))
    _assert_same_cells(history, list(visible_changes(scope)))
    assert all(r.startswith("<tr data-event=") for r in audit.rows_html(AuditEvent.objects.all()))
    assert StatusChange.objects.exists()


@pytest.mark.parametrize(
    ("user", "present", "absent"),
    [
        ("demo", ["/edit/", "/metadata/"], ["/reset-status/", "/force-delete/"]),
        ("auditor", [], ["/edit/", "/delete/", "row-actions"]),
        ("admin", ["/edit/", "/reset-status/", "/force-delete/"], []),
    ],
)
def test_row_actions_follow_the_role(login, seeded, projects, user, present, absent):
    client = login(user, project="alpha" if user == "demo" else None)
    html = client.get("/snapshots/", {"per_page": "100"}).content.decode()
    first = Snapshot.objects.filter(project_id=projects["alpha"], deleted_at=None).first()
    for fragment in present:
        assert f'href="/snapshots/{first.pk}{fragment}"' in html, fragment
    for fragment in absent:
        assert fragment not in html, fragment


def test_row_actions_markup_escapes_and_explains_a_refused_delete():
    from snapshots.services.eligibility import PermittedActions
    from snapshots.tables.snapshots import row_actions_html

    snap = Snapshot(id="abc-1", name="<script>x</script>")
    acts = PermittedActions(delete=True, delete_reason="<b>busy</b>")
    html = str(row_actions_html(snap, acts))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b&gt;busy&lt;/b&gt;" in html and 'aria-disabled="true"' in html
    assert "/delete/" not in html  # refused: no link
    assert str(row_actions_html(snap, PermittedActions())) == ""
    admin = PermittedActions(reset_status=True, force_delete=True)
    html = str(row_actions_html(snap, admin))
    assert 'href="/snapshots/abc-1/reset-status/"' in html
    assert 'href="/snapshots/abc-1/force-delete/"' in html
    assert "/set-status/" not in html


def test_tables_do_not_share_their_column_choices():
    """Columns are copied one level deep per table: hiding one in a table leaves the class
    and every other table alone."""
    first = SnapshotTable([], columns=["id"])
    second = SnapshotTable([], columns=["size"])
    third = SnapshotTable([], exporting=True)
    shown = [[c.name for c in t.columns] for t in (first, second)]
    assert "id" in shown[0] and "size" not in shown[0]
    assert "size" in shown[1] and "id" not in shown[1]
    assert all(column.visible for column in SnapshotTable.base_columns.values())
    assert "description" in [c.name for c in third.columns.iterall()]
    assert "description" not in [c.name for c in first.columns.iterall()]


def test_volume_suggestions_are_offered_escaped_and_scoped(login, projects):
    from snapshots.models import Volume
    from snapshots.views import browse

    browse._suggestions.clear()  # a process keeps them a minute
    mine = Volume.objects.create(id="v-a", project_id=projects["alpha"], name='<b>"alpha-vol"</b>')
    theirs = Volume.objects.create(id="v-b", project_id=projects["beta"], name="beta-vol")
    html = login("demo", project="alpha").get("/snapshots/").content.decode()
    datalist = html[html.index('<datalist id="volume-names">') :]
    datalist = datalist[: datalist.index("</datalist>")]
    assert "&lt;b&gt;&quot;alpha-vol&quot;&lt;/b&gt;" in datalist and "<b>" not in datalist
    assert theirs.name not in datalist
    assert mine.project_id == projects["alpha"]
