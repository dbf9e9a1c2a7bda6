"""What the filters of the audit log and the status history share.

Both start from a queryset already restricted to what the user may read; the project dropdown
lists only those projects, so a filter can narrow but never widen.
"""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.conf import settings

from snapshots.filters import widgets
from snapshots.permissions import Scope
from snapshots.selectors.snapshots import project_choices
from snapshots.templatetags.reveal import reveal_text

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def time_range(field_name: str) -> tuple[filters.IsoDateTimeFilter, filters.IsoDateTimeFilter]:
    """The From (inclusive) and Until (exclusive) filters of a log over `field_name`."""
    return tuple(
        filters.IsoDateTimeFilter(
            field_name=field_name, lookup_expr=lookup, label=label, widget=DATETIME_WIDGET
        )
        for lookup, label in (("gte", "From"), ("lt", "Until"))
    )


def offer_projects(project_filter: filters.ChoiceFilter, scope: Scope, names) -> None:
    """The project filter's choices: the projects `scope` reads, so it narrows and never widens.
    Up to PROJECT_MENU_MAX of them in a menu; past that (a cloud of thousands of projects,
    where rendering the menu cost more than the rest of the page) a box for the project's ID,
    checked against the same choices."""
    pairs = project_choices(scope, names=names)
    if len(pairs) > settings.PROJECT_MENU_MAX:
        project_filter.extra["choices"] = [(value, value) for value, _ in pairs]
        project_filter.extra["widget"] = forms.TextInput(attrs={"placeholder": "Project ID"})
        project_filter.label = "Project ID"
        return
    # <option> text cannot hold the flagging markup: visible markers instead
    project_filter.extra["choices"] = [(value, reveal_text(label)) for value, label in pairs]


class ScopedFilterSet(filters.FilterSet):
    """Fills the project choices from the user's scope (passed by the view)."""

    project = filters.ChoiceFilter(field_name="project_id", label="Project", empty_label="All")

    def __init__(
        self,
        *args,
        scope: Scope | None = None,
        project_names: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if scope is None:
            self.filters["project"].extra["choices"] = []
        else:
            offer_projects(self.filters["project"], scope, project_names)

    @property
    def form(self):
        form = super().form
        form.renderer = widgets.renderer()
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
