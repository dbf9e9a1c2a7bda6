"""The project's volumes, each with its snapshot count and a "Snapshot this volume" button.

Everything comes from the mirror (volumes kept by sync, counts in one query): the page asks
Cinder nothing. Cinder stays the last word when the create form is sent.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_GET

from snapshots.permissions import Action, can, require
from snapshots.selectors import visible_snapshots
from snapshots.services.eligibility import project_volumes
from snapshots.services.volume_tracking import TRANSITIONAL_VOLUME
from snapshots.tables.volumes import VolumeTable


@login_required
@require_GET
def volume_list(request):
    scope = request.dashboard_scope
    require(scope, Action.VIEW)
    volumes = project_volumes(scope=scope)
    ids = [v.id for v in volumes.choices]
    counts = dict(
        visible_snapshots(scope)
        .filter(volume_id__in=ids)
        .order_by()
        .values("volume_id")
        .annotate(n=Count("id"))
        .values_list("volume_id", "n")
    )
    table = VolumeTable(
        volumes.choices, counts=counts, may_create=can(scope, Action.CREATE, scope.project_id)
    )
    return render(
        request,
        "snapshots/volumes.html",
        {
            "table": table,
            # a volume being made from a snapshot (or reverted): the table reloads until it settles
            "moving": any(v.status in TRANSITIONAL_VOLUME for v in volumes.choices),
        },
    )
