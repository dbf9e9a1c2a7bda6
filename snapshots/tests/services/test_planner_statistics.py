"""After a pass that added many rows, PostgreSQL's planner figures for the mirror are renewed at
once (until autovacuum's next round it would plan list pages as if the table were empty)."""

from __future__ import annotations

import pytest
from django.db import connection

from snapshots.services import mirror
from snapshots.tests.factories_audit import make_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def planned_rows() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'snapshots_snapshot'")
        return cursor.fetchone()[0]


def test_many_new_rows_renew_the_planners_figures():
    if connection.vendor != "postgresql":
        pytest.fail("the postgres suite runs on PostgreSQL (DATABASE_URL)")
    for i in range(12):
        make_snapshot("p1", name=f"s{i}")
    before = planned_rows()
    mirror.refresh_statistics(mirror.ANALYZE_AFTER_NEW - 1)
    assert planned_rows() == before
    mirror.refresh_statistics(mirror.ANALYZE_AFTER_NEW)
    assert planned_rows() == 12
