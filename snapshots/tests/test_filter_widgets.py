"""The list filters' own widget renderer writes exactly what Django's templates write."""

from __future__ import annotations

import pytest
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict

from snapshots.filters import AuditEventFilter, SnapshotFilter, StatusChangeFilter
from snapshots.filters.widgets import ListFilterRenderer
from snapshots.models import AuditEvent, Snapshot, StatusChange
from snapshots.tests.factories_audit import ALPHA, BETA, make_scope

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "q=%3Cb%3E%22x%22%26&status=available&status=error&volume=v%27s&size_min=1&size_max=abc",
    "created_after=2026-01-01&created_before=9999-12-31&meta_key=k&meta_value=%3Cv%3E"
    "&stuck=on&failed=on&project=" + BETA,
    "user=%3Cscript%3E&outcome=refused&since=2026-05-01T10:00&until=x&snapshot=%22&source=sync",
]


def _html(form) -> list[str]:
    out = []
    for field in form:
        out.append(str(field))
        if hasattr(field.field.widget, "allow_multiple_selected"):
            out.extend(str(choice.tag()) for choice in field)
    return out


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(
    ("filterset_class", "model"),
    [
        (SnapshotFilter, Snapshot),
        (AuditEventFilter, AuditEvent),
        (StatusChangeFilter, StatusChange),
    ],
)
@pytest.mark.parametrize("role", ["admin", "reader"])
def test_same_markup_as_djangos_templates(filterset_class, model, query, role):
    scope = make_scope(role, ALPHA, readable=None if role == "admin" else frozenset({ALPHA, BETA}))
    names = {ALPHA: "alpha <&>", BETA: 'beta "b"'}
    data = QueryDict(query) if query else None
    fast = filterset_class(data, queryset=model.objects.all(), scope=scope, project_names=names)
    slow = filterset_class(data, queryset=model.objects.all(), scope=scope, project_names=names)
    assert isinstance(fast.form.renderer, ListFilterRenderer)
    slow.form.renderer = DjangoTemplates()
    fast_html, slow_html = _html(fast.form), _html(slow.form)
    assert fast_html == slow_html
    assert any("<input" in html for html in fast_html)


def test_inputs_and_selects_do_not_go_through_the_template_engine(monkeypatch):
    def no_templates(self, template_name):
        raise AssertionError(f"rendered through {template_name}")

    monkeypatch.setattr(ListFilterRenderer, "get_template", no_templates)
    scope = make_scope("admin", ALPHA, readable=None)
    filterset = SnapshotFilter(
        QueryDict("q=x&status=error"), queryset=Snapshot.objects.all(), scope=scope
    )
    form = filterset.form
    assert 'value="x"' in str(form["q"])
    assert "checked" in "".join(str(choice.tag()) for choice in form["status"])
    assert "<option" in str(form["project"])
