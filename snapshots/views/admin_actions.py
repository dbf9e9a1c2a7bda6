"""Admin repairs: force delete, reset status, set status and progress, and their bulk forms.

The permission is checked before the page is shown (a member gets 403 and nothing reaches
Cinder), and again per snapshot in the service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from snapshots.forms.admin_actions import BulkResetStatusForm, ResetStatusForm, SetStatusForm
from snapshots.forms.snapshots import ConfirmForm
from snapshots.permissions import Action, require
from snapshots.selectors import get_snapshot, visible_snapshots
from snapshots.services import snapshots as actions
from snapshots.views.action_support import (
    MAX_BULK,
    detail_url,
    list_url,
    next_url,
    perform,
    perform_bulk,
    selected_ids,
)
from snapshots.views.actions import dependents_context


def _done(request, snapshot, text: str):
    messages.success(request, f"“{snapshot.name or snapshot.id}”: {text}")
    return redirect(next_url(request, detail_url(snapshot.id)))


@login_required
@require_http_methods(["GET", "POST"])
def force_delete(request, snapshot_id: str):
    snapshot = get_snapshot(request.scope, snapshot_id)
    require(request.scope, Action.FORCE_DELETE, snapshot.project_id)
    form = ConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            return HttpResponseBadRequest("The form was incomplete; reload the page.")

        def scheduled(_row):
            messages.success(
                request,
                f"Force deletion of “{snapshot.name or snapshot.id}” has been scheduled.",
            )
            return redirect(next_url(request, list_url()))

        status = perform(
            request,
            actions.force_delete_snapshot,
            form,
            snapshot_id=snapshot.id,
            done=scheduled,
            repeat_url=list_url(),
            refused="Not deleted: ",
        )
        if not isinstance(status, int):
            return status
    live = [snapshot] if snapshot.deleted_at is None else []
    return render(
        request,
        "snapshots/admin_force_delete.html",
        {
            "form": form,
            "snapshots": [snapshot],
            "bulk": False,
            **dependents_context(request, live, all_projects=True),
            "cancel_url": detail_url(snapshot.id),
            "next": next_url(request, ""),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reset_status(request, snapshot_id: str):
    snapshot = get_snapshot(request.scope, snapshot_id)
    require(request.scope, Action.RESET_STATUS, snapshot.project_id)
    form = ResetStatusForm(request.POST or None, current=snapshot.status)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            status = perform(
                request,
                actions.reset_snapshot_status,
                form,
                snapshot_id=snapshot.id,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                done=lambda row: _done(request, snapshot, f"status reset to {row.status}."),
                repeat_url=detail_url(snapshot.id),
            )
            if not isinstance(status, int):
                return status
    return render(
        request,
        "snapshots/admin_reset_status.html",
        {"form": form, "snapshot": snapshot, "cancel_url": detail_url(snapshot.id)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def set_status(request, snapshot_id: str):
    snapshot = get_snapshot(request.scope, snapshot_id)
    require(request.scope, Action.SET_STATUS, snapshot.project_id)
    allowed = actions.allowed_set_statuses(snapshot.status)
    form = SetStatusForm(request.POST or None, current=snapshot.status)
    status = 200
    if request.method == "POST":
        if not allowed:
            messages.error(
                request,
                f"Cinder changes the status this way only from creating or deleting; this "
                f"snapshot is {snapshot.status}.",
            )
            status = 409
        elif not form.is_valid():
            status = 400
        else:

            def set_to(row):
                progress = "" if row.progress is None else f" ({row.progress} %)"
                return _done(request, snapshot, f"status set to {row.status}{progress}.")

            status = perform(
                request,
                actions.set_snapshot_status,
                form,
                snapshot_id=snapshot.id,
                status=form.cleaned_data["status"],
                progress=form.cleaned_data["progress"],
                done=set_to,
                repeat_url=detail_url(snapshot.id),
            )
            if not isinstance(status, int):
                return status
    return render(
        request,
        "snapshots/admin_set_status.html",
        {
            "form": form,
            "snapshot": snapshot,
            "allowed": allowed,
            "cancel_url": detail_url(snapshot.id),
        },
        status=status,
    )


# --- bulk -------------------------------------------------------------------------------------
def _bulk_selection(request, permission: Action):
    require(request.scope, permission)
    ids = selected_ids(request)
    if len(ids) > MAX_BULK:
        messages.error(request, f"Select at most {MAX_BULK} snapshots at a time.")
        return None
    chosen = list(visible_snapshots(request.scope).filter(pk__in=ids))
    if not chosen:
        messages.info(request, "Select the snapshots first.")
        return None
    return chosen


@login_required
@require_http_methods(["GET", "POST"])
def bulk_force_delete(request):
    chosen = _bulk_selection(request, Action.FORCE_DELETE)
    if chosen is None:
        return redirect(next_url(request, list_url()))
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    form = ConfirmForm(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        perform_bulk(
            request,
            actions.force_delete_snapshots,
            form,
            snapshot_ids=[s.id for s in chosen],
        )
        return redirect(next_url(request, list_url()))
    return render(
        request,
        "snapshots/admin_force_delete.html",
        {
            "form": form,
            "snapshots": chosen,
            "bulk": True,
            **dependents_context(request, chosen, all_projects=True),
            "cancel_url": next_url(request, list_url()),
            "next": next_url(request, ""),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def bulk_reset_status(request):
    chosen = _bulk_selection(request, Action.RESET_STATUS)
    if chosen is None:
        return redirect(next_url(request, list_url()))
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    form = BulkResetStatusForm(request.POST if confirmed else None)
    status = 200
    if confirmed:
        if form.is_valid():
            perform_bulk(
                request,
                actions.reset_snapshots_status,
                form,
                snapshot_ids=[s.id for s in chosen],
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
            return redirect(next_url(request, list_url()))
        status = 400
    return render(
        request,
        "snapshots/admin_bulk_reset_status.html",
        {
            "form": form,
            "snapshots": chosen,
            "cancel_url": next_url(request, list_url()),
            "next": next_url(request, ""),
        },
        status=status,
    )
