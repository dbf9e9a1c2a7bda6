"""The snapshot pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from snapshots.permissions import Action, require


@login_required
def snapshot_list(request):
    require(request.scope, Action.VIEW)
    return render(request, "snapshots/list.html", {})
