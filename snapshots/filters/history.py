"""Filters of the status history (strict: an invalid value lists nothing and the form says why)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet

from snapshots.choices import ChangeSource, Status
from snapshots.filters.base import ScopedFilterSet, time_range


class StatusChangeFilter(ScopedFilterSet):
    status = filters.ChoiceFilter(
        field_name="to_status", choices=Status.choices, label="Status", empty_label="All"
    )
    source = filters.ChoiceFilter(choices=ChangeSource.choices, label="Source", empty_label="All")
    snapshot = filters.CharFilter(method="filter_snapshot", label="Snapshot (id or name)")
    since, until = time_range("observed_at")

    def filter_snapshot(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(snapshot_id=value) | Q(snapshot__name__icontains=value))
