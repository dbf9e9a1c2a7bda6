"""Filters of the audit log and the status history.

Both start from a queryset already restricted to what the user may read (selectors/audit.py);
the project dropdown lists only those projects, so a filter can narrow but never widen.
django-filter is strict: an invalid value gives an empty list and the form shows why.
"""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import Q, QuerySet

from snapshots.choices import ChangeSource, Outcome, Status
from snapshots.permissions import Scope
from snapshots.selectors.audit import project_names
from snapshots.templatetags.reveal import reveal_text

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _project_choices(scope: Scope | None) -> list[tuple[str, str]]:
    names = project_names(scope)
    ordered = sorted(names.items(), key=lambda item: (item[1].lower(), item[0]))
    return [(value, reveal_text(label)) for value, label in ordered]  # <option> text


class _ScopedFilterSet(filters.FilterSet):
    """Fills the project choices from the user's scope (passed by the view)."""

    project = filters.ChoiceFilter(field_name="project_id", label="Project", empty_label="All")

    def __init__(self, *args, scope: Scope | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["project"].extra["choices"] = _project_choices(scope)

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault(
                "class", "form-select form-select-sm" if select else "form-control form-control-sm"
            )
        return form

    @property
    def active(self) -> bool:
        """Whether any filter is set (the page says so and offers to clear them)."""
        return any(self.data.get(name) for name in self.filters)


class AuditEventFilter(_ScopedFilterSet):
    user = filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label="User")
    action = filters.ChoiceFilter(label="Action", empty_label="All")
    outcome = filters.ChoiceFilter(choices=Outcome.choices, label="Outcome", empty_label="All")
    snapshot = filters.CharFilter(method="filter_snapshot", label="Snapshot (id or name)")
    since = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="From", widget=DATETIME_WIDGET
    )
    until = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Until", widget=DATETIME_WIDGET
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        actions = self.queryset.order_by("action").values_list("action", flat=True).distinct()
        self.filters["action"].extra["choices"] = [(a, a.replace("_", " ")) for a in actions]

    def filter_snapshot(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(target_id=value) | Q(target_name__icontains=value))


class StatusChangeFilter(_ScopedFilterSet):
    status = filters.ChoiceFilter(
        field_name="to_status", choices=Status.choices, label="Status", empty_label="All"
    )
    source = filters.ChoiceFilter(choices=ChangeSource.choices, label="Source", empty_label="All")
    snapshot = filters.CharFilter(method="filter_snapshot", label="Snapshot (id or name)")
    since = filters.IsoDateTimeFilter(
        field_name="observed_at", lookup_expr="gte", label="From", widget=DATETIME_WIDGET
    )
    until = filters.IsoDateTimeFilter(
        field_name="observed_at", lookup_expr="lt", label="Until", widget=DATETIME_WIDGET
    )

    def filter_snapshot(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(snapshot_id=value) | Q(snapshot__name__icontains=value))
