"""Filters of the audit log (strict: an invalid value lists nothing and the form says why)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet

from snapshots.choices import Outcome
from snapshots.filters.base import ScopedFilterSet, time_range


class AuditEventFilter(ScopedFilterSet):
    user = filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label="User")
    action = filters.ChoiceFilter(label="Action", empty_label="All")
    outcome = filters.ChoiceFilter(choices=Outcome.choices, label="Outcome", empty_label="All")
    snapshot = filters.CharFilter(method="filter_snapshot", label="Snapshot (id or name)")
    since, until = time_range("created_at")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        actions = self.queryset.order_by("action").values_list("action", flat=True).distinct()
        self.filters["action"].extra["choices"] = [(a, a.replace("_", " ")) for a in actions]

    def filter_snapshot(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(target_id=value) | Q(target_name__icontains=value))
