"""The result page of an action whose outcome Cinder did not tell in time.

It shows what the worker has found out so far (still checking, done, or not done) and reloads
itself until it knows. Only the person who acted, or an admin, sees it. It reads the database
only.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from snapshots.models import AuditEvent, Operation, Snapshot
from snapshots.permissions import Action, require
from snapshots.views.common import small_int


@login_required
@require_GET
def operation_detail(request):
    """`?event=<id>`: the audit event of the attempt names the action."""
    scope = request.dashboard_scope
    require(scope, Action.VIEW)
    event_id = small_int(request.GET.get("event"))
    if event_id is None:  # no action named: the list is where actions start
        return redirect("snapshots:list")
    operation = Operation.objects.filter(event_id=event_id).first()
    if operation is None or not (operation.actor_id == scope.user_id or scope.is_admin):
        raise Http404("No such action")
    event = AuditEvent.objects.filter(pk=event_id).first()
    snapshot = None
    if operation.target_id:
        snapshot = Snapshot.objects.filter(pk=operation.target_id).first()
    return render(
        request,
        "snapshots/operation.html",
        {
            "operation": operation,
            "title": operation.action.replace("_", " ").capitalize(),
            "event": event,
            "snapshot": snapshot,
            "checking": operation.state == Operation.UNKNOWN,
        },
    )
