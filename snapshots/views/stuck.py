"""The admins' queue of stuck snapshots, with the repairs one click away.

A snapshot is stuck when the workers flagged it (`stuck_since`), or when it has sat in
`creating`, `deleting` or `error_deleting` for longer than settings.STUCK_AFTER, judged by the
older of when the mirror saw the status change and when Cinder last updated it (a snapshot first
seen already stuck is not young just because the dashboard is).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Least
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from snapshots.choices import STUCK_CANDIDATES
from snapshots.permissions import Action, require
from snapshots.selectors import visible_snapshots

LIMIT = 500


def stuck_snapshots(scope):
    cutoff = timezone.now() - settings.STUCK_AFTER
    return (
        visible_snapshots(scope)
        .filter(status__in=STUCK_CANDIDATES)
        .annotate(in_status_since=Least("status_since", Coalesce("updated_at", "created_at")))
        .filter(Q(stuck_since__isnull=False) | Q(in_status_since__lte=cutoff))
        .order_by(F("in_status_since").asc(), "id")
    )


@login_required
@require_GET
def stuck_list(request):
    require(request.scope, Action.RESET_STATUS)
    snapshots = list(stuck_snapshots(request.scope)[: LIMIT + 1])
    return render(
        request,
        "snapshots/stuck.html",
        {
            "snapshots": snapshots[:LIMIT],
            "truncated": len(snapshots) > LIMIT,
            "limit": LIMIT,
            "stuck_after_minutes": round(settings.STUCK_AFTER.total_seconds() / 60),
            "now": timezone.now(),
        },
    )
