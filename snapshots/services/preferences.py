"""Saving what a person chose for a table. Only the list view's column chooser calls it."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from snapshots.models import TablePreference


def table_preference_save(
    *,
    user,
    table: str,
    columns: Iterable[str] | None = None,
    per_page: int | None = None,
    allowed_columns: Iterable[str] = (),
    allowed_page_sizes: Iterable[int] = (),
) -> TablePreference:
    """Store the chosen columns and/or page size, keeping only values the table knows.

    `columns=None` leaves the stored columns alone; an empty list goes back to the default set.
    `per_page=None` leaves the stored page size alone.
    """
    pref, _ = TablePreference.objects.get_or_create(user=user, table=table)
    fields = ["updated_at"]
    if columns is not None:
        allowed = list(allowed_columns)
        chosen = set(columns)
        pref.columns = [name for name in allowed if name in chosen]
        fields.append("columns")
    if per_page is not None and per_page in set(allowed_page_sizes):
        pref.per_page = per_page
        fields.append("per_page")
    pref.updated_at = timezone.now()
    pref.save(update_fields=fields)
    return pref
