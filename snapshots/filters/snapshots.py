"""The list's filters. Each one applies together with the others, with sorting, paging and export.

Cinder can filter snapshots by name, status and volume only; the mirror adds text search over
name, description and ID, size and age ranges, metadata, stuck and failed. A field with bad input
is reported next to itself and left out, so a typo never turns the page into an empty list.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from snapshots.choices import FAILED, Status
from snapshots.filters import widgets
from snapshots.filters.base import offer_projects
from snapshots.permissions import Scope
from snapshots.selectors import STUCK
from snapshots.selectors import snapshots as selectors

# Names of every filter, so links built from the current URL can keep exactly these.
FILTER_PARAMS = (
    "q",
    "status",
    "volume",
    "project",
    "size_min",
    "size_max",
    "created_after",
    "created_before",
    "meta_key",
    "meta_value",
    "stuck",
    "failed",
)
ADVANCED_PARAMS = frozenset(FILTER_PARAMS) - {"q", "status"}

ID_FRAGMENT = re.compile(r"[0-9a-fA-F-]+")
# Dates outside these make no sense for a snapshot, and the day after 9999-12-31 (the end of
# "created until") is past what a date can hold.
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 12, 30)
DATE_RANGE = f"Give a date from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}."
LARGEST_SIZE = 2**31 - 1  # GiB; the column is a 32-bit integer


def _text(method: str, label: str, **attrs: str) -> django_filters.CharFilter:
    """A text filter of at most 255 characters; `attrs` go on its <input>."""
    return django_filters.CharFilter(
        method=method, label=label, max_length=255, widget=forms.TextInput(attrs=attrs)
    )


def _size_bound(lookup: str, label: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        field_name="size", lookup_expr=lookup, label=label, min_value=0, max_value=LARGEST_SIZE
    )


def _day(method: str, label: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        method=method, label=label, widget=forms.DateInput(attrs={"type": "date"})
    )


def _start_of_day(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class SnapshotFilterForm(forms.Form):
    """Checks that mix two fields; the offending field is dropped, not the whole filter."""

    def clean(self):
        data = super().clean()
        low, high = data.get("size_min"), data.get("size_max")
        if low is not None and high is not None and low > high:
            self.add_error("size_max", "The largest size must not be below the smallest.")
        for name in ("created_after", "created_before"):
            day = data.get(name)
            if day is not None and not EARLIEST <= day <= LATEST:
                self.add_error(name, DATE_RANGE)
        after, before = data.get("created_after"), data.get("created_before")
        if after and before and after > before:
            self.add_error("created_before", "This date must not be before the 'from' date.")
        if data.get("meta_value") and not data.get("meta_key"):
            self.add_error("meta_value", "Give the metadata key as well.")
        if '"' in (data.get("meta_key") or "") and connection.vendor == "sqlite":
            # SQLite's JSON paths cannot name a key that holds a double quote.
            self.add_error("meta_key", "Keys with a double quote cannot be searched here.")
        return data


class SnapshotFilter(django_filters.FilterSet):
    q = _text("filter_search", "Search", type="search", placeholder="Name, description or ID")
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices,
        label="Status",
        widget=forms.CheckboxSelectMultiple,
        distinct=False,  # one row per snapshot already; DISTINCT would cost a sort of 100k rows
    )
    volume = _text("filter_volume", "Volume", placeholder="Volume name or ID", list="volume-names")
    project = django_filters.ChoiceFilter(
        field_name="project_id", label="Project", empty_label="All projects"
    )
    size_min = _size_bound("gte", "Size from (GiB)")
    size_max = _size_bound("lte", "Size to (GiB)")
    created_after = _day("filter_created_after", "Created from")
    created_before = _day("filter_created_before", "Created until")
    meta_key = django_filters.CharFilter(
        method="filter_metadata", label="Metadata key", max_length=255
    )
    meta_value = django_filters.CharFilter(
        method="filter_nothing", label="Metadata value", max_length=255
    )
    stuck = django_filters.BooleanFilter(
        method="filter_stuck", label="Stuck only", widget=forms.CheckboxInput
    )
    failed = django_filters.BooleanFilter(
        method="filter_failed", label="Failed only", widget=forms.CheckboxInput
    )

    class Meta:
        form = SnapshotFilterForm
        fields: list[str] = []

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        scope: Scope,
        project_names: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.scope = scope
        if selectors.sees_several_projects(scope):
            offer_projects(self.filters["project"], scope, project_names)
        else:
            del self.filters["project"]
        self.form.renderer = widgets.renderer()
        for name, field in self.form.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")
            if self.is_bound and name in self.form.errors:
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"{name}-error"

    # -- the methods behind the filters ---------------------------------------------------------
    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(name__icontains=value) | Q(description__icontains=value)
        if ID_FRAGMENT.fullmatch(value):
            # Cinder ids are hex and dashes: other text cannot match one, so skip that scan.
            match |= Q(id__icontains=value.lower())
        return queryset.filter(match)

    def filter_volume(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(volume_id=value) | Q(volume_name=value))

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of_day(value))

    def filter_created_before(self, queryset, name, value):
        if value >= date.max:  # no day after it: everything was created before its end
            return queryset
        return queryset.filter(created_at__lt=_start_of_day(value + timedelta(days=1)))

    def filter_metadata(self, queryset, name, value):
        key = value.strip()
        if not key:
            return queryset
        wanted = self.form.cleaned_data.get("meta_value")
        if wanted:
            # Cast: a bare key transform compares JSON to JSON, which SQLite rejects for text.
            value = Cast(KeyTextTransform(key, "metadata"), output_field=TextField())
            return queryset.alias(_meta_value=value).filter(_meta_value=wanted)
        return queryset.filter(metadata__has_key=key)

    def filter_nothing(self, queryset, name, value):
        """meta_value is applied by filter_metadata, together with its key."""
        return queryset

    def filter_stuck(self, queryset, name, value):
        return queryset.filter(STUCK) if value else queryset

    def filter_failed(self, queryset, name, value):
        return queryset.filter(status__in=FAILED) if value else queryset

    # -- for the template -----------------------------------------------------------------------
    @property
    def error_summary(self) -> list[tuple[str, list[str]]]:
        """(field label, messages) for each filter left out, for the alert above the form."""
        if not self.is_bound:
            return []
        fields = self.form.fields
        return [
            (str(fields[name].label) if name in fields else "Filters", list(errors))
            for name, errors in self.form.errors.items()
        ]

    @property
    def advanced_active(self) -> bool:
        """Open the "more filters" panel when one of its filters is in use (or wrong)."""
        if not self.is_bound:
            return False
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        used = any(data.get(name) not in (None, "", False, []) for name in ADVANCED_PARAMS)
        wrong = any(name in ADVANCED_PARAMS for name in self.form.errors)
        return used or wrong
