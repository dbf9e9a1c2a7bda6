"""The admins' queue of stuck snapshots, with the repairs one click away.

Stuck means what the workers flagged (`selectors.stuck_snapshots`), the same rows the overview
counts and the list's "stuck" filter shows.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from snapshots.permissions import Action, require
from snapshots.selectors import stuck_snapshots
from snapshots.tables.stuck import StuckTable

LIMIT = 500


@login_required
@require_GET
def stuck_list(request):
    require(request.dashboard_scope, Action.RESET_STATUS)
    snapshots = list(stuck_snapshots(request.dashboard_scope)[: LIMIT + 1])
    return render(
        request,
        "snapshots/stuck.html",
        {
            "table": StuckTable(snapshots[:LIMIT]),
            "truncated": len(snapshots) > LIMIT,
            "limit": LIMIT,
            "stuck_after_minutes": round(settings.STUCK_AFTER.total_seconds() / 60),
        },
    )
