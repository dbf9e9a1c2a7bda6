"""The project's volumes, each with its snapshot count and a "Snapshot this volume" button.

The list comes from Cinder through the user's own token, so it is exactly what Cinder lets them
snapshot; the counts come from the mirror in one query. When the cloud does not answer, the page
shows the Volume mirror with a note instead of failing.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_GET

from snapshots.cloud import credentials
from snapshots.permissions import Action, can, require
from snapshots.selectors import visible_snapshots
from snapshots.services.eligibility import project_volumes


@login_required
@require_GET
def volume_list(request):
    scope = request.scope
    require(scope, Action.VIEW)
    volumes = project_volumes(scope=scope, gateway=credentials.user_gateway(request))
    ids = [v.id for v in volumes.choices]
    counts = dict(
        visible_snapshots(scope)
        .filter(volume_id__in=ids)
        .order_by()
        .values("volume_id")
        .annotate(n=Count("id"))
        .values_list("volume_id", "n")
    )
    rows = [(v, counts.get(v.id, 0)) for v in volumes.choices]
    return render(
        request,
        "snapshots/volumes.html",
        {
            "volumes": volumes,
            "rows": rows,
            "may_create": can(scope, Action.CREATE, scope.project_id),
        },
    )
