"""Member actions: create, edit, metadata and delete (single and bulk).

Each view checks the permission for the page, renders a form whose POST goes to one service
function, and turns the outcome into a message: Cinder's refusal in its own words with nothing
changed locally, an outage with the form kept filled in.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from snapshots.cloud import credentials
from snapshots.forms.snapshots import (
    ConfirmForm,
    MetadataForm,
    SnapshotCreateForm,
    SnapshotEditForm,
    metadata_formset,
)
from snapshots.permissions import Action, can, require
from snapshots.selectors import get_snapshot, visible_snapshots
from snapshots.services import dependents
from snapshots.services import snapshots as actions
from snapshots.services.eligibility import keep_posted_volume, project_volumes
from snapshots.views.action_support import (
    MAX_BULK,
    detail_url,
    list_url,
    next_url,
    perform,
    perform_bulk,
    selected_ids,
)


# --- create -----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    scope = request.scope
    require(scope, Action.CREATE, scope.project_id if scope else None)
    gateway = credentials.user_gateway(request)
    volumes = project_volumes(scope=scope, gateway=gateway)
    initial = {"volume": request.GET.get("volume", "")}
    data = request.POST if request.method == "POST" else None
    if data is not None and not volumes.live:
        volumes = keep_posted_volume(volumes, data.get("volume", ""))
    form = SnapshotCreateForm(
        data, initial=initial, volumes=volumes.choices, needs_force=volumes.needs_force
    )
    rows = metadata_formset(data, on_create=True)
    status = 200
    if request.method == "POST":
        if form.is_valid() and rows.is_valid():
            chosen = form.chosen()

            def created(row):
                messages.success(
                    request,
                    f"Snapshot “{row.name or row.id}” is being created; it turns available "
                    "on its own.",
                )
                return redirect(list_url(highlight=row.id))

            status = perform(
                request,
                actions.create_snapshot,
                form,
                gateway=gateway,
                volume_id=form.cleaned_data["volume"],
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                metadata=rows.wanted(),
                force=bool(form.cleaned_data.get("force")),
                volume_name=chosen.name if chosen else None,
                done=created,
                repeat_url=list_url(),
            )
            if not isinstance(status, int):
                return status
        else:
            status = 400
    return render(
        request,
        "snapshots/create.html",
        {"form": form, "rows": rows, "volumes": volumes, "chosen": form.chosen()},
        status=status,
    )


# --- edit -------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def edit(request, snapshot_id: str):
    snapshot = get_snapshot(request.scope, snapshot_id)
    require(request.scope, Action.EDIT, snapshot.project_id)
    initial = {"name": snapshot.name, "description": snapshot.description}
    form = SnapshotEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif not form.has_changed() or set(form.changed_data) == {"idempotency_key"}:
            messages.info(request, "Nothing to change.")
            return redirect(detail_url(snapshot.id))
        else:

            def saved(_row):
                messages.success(request, "Snapshot saved.")
                return redirect(detail_url(snapshot.id))

            status = perform(
                request,
                actions.update_snapshot,
                form,
                snapshot_id=snapshot.id,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                done=saved,
                repeat_url=detail_url(snapshot.id),
            )
            if not isinstance(status, int):
                return status
    return render(
        request,
        "snapshots/edit.html",
        {"form": form, "snapshot": snapshot, "detail_url": detail_url(snapshot.id)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def metadata(request, snapshot_id: str):
    snapshot = get_snapshot(request.scope, snapshot_id)
    require(request.scope, Action.EDIT, snapshot.project_id)
    data = request.POST if request.method == "POST" else None
    form = MetadataForm(data)
    rows = metadata_formset(data, initial=snapshot.metadata, on_create=False, extra=1)
    status = 200
    if request.method == "POST":
        if not (form.is_valid() and rows.is_valid()):
            status = 400
        else:
            to_set, to_remove = rows.changes()
            if not to_set and not to_remove:
                messages.info(request, "Nothing to change.")
                return redirect(detail_url(snapshot.id))

            def saved(_row):
                parts = []
                if to_set:
                    parts.append(f"set {', '.join(sorted(to_set))}")
                if to_remove:
                    parts.append(f"removed {', '.join(sorted(to_remove))}")
                messages.success(request, f"Metadata saved: {'; '.join(parts)}.")
                return redirect(detail_url(snapshot.id))

            status = perform(
                request,
                actions.update_snapshot_metadata,
                form,
                snapshot_id=snapshot.id,
                set_items=to_set,
                remove_keys=to_remove,
                done=saved,
                repeat_url=detail_url(snapshot.id),
                nothing_changed=False,
            )
            if not isinstance(status, int):
                return status
    return render(
        request,
        "snapshots/metadata.html",
        {
            "form": form,
            "rows": rows,
            "snapshot": snapshot,
            "detail_url": detail_url(snapshot.id),
        },
        status=status,
    )


# --- delete -----------------------------------------------------------------------------------
def dependents_context(request, snapshots: list, *, all_projects: bool = False) -> dict:
    """Each snapshot with the volumes made from it (asked of Cinder), and whether Cinder could
    tell at all: the confirmation says "cannot tell" rather than "none" when it could not."""
    found = None
    if snapshots:
        found = dependents.volumes_from(
            credentials.user_gateway(request), [s.id for s in snapshots], all_projects=all_projects
        )
    items = [(s, (found or {}).get(s.id, [])) for s in snapshots]
    return {
        "items": items,
        "children_known": found is not None or not snapshots,
        "children_total": sum(len(v) for _, v in items),
    }


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, snapshot_id: str):
    snapshot = get_snapshot(request.scope, snapshot_id)
    require(request.scope, Action.DELETE, snapshot.project_id)
    form = ConfirmForm(request.POST or None)
    reason = actions.why_not_deletable(snapshot)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            return HttpResponseBadRequest("The form was incomplete; reload the page.")

        def scheduled(_row):
            messages.success(
                request,
                f"Deletion of “{snapshot.name or snapshot.id}” has been scheduled; it disappears "
                "from the list once Cinder has removed it.",
            )
            return redirect(next_url(request, list_url()))

        status = perform(
            request,
            actions.delete_snapshot,
            form,
            snapshot_id=snapshot.id,
            done=scheduled,
            repeat_url=list_url(),
            refused="Not deleted: ",
        )
        if not isinstance(status, int):
            return status
    context = {
        "form": form,
        "snapshots": [snapshot],
        "refused": [] if not reason else [(snapshot, reason)],
        "action_url": request.path,
        "bulk": False,
        "cancel_url": detail_url(snapshot.id),
        "next": next_url(request, ""),
        **dependents_context(request, [] if reason else [snapshot]),
    }
    return render(request, "snapshots/delete_confirm.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_delete(request):
    require(request.scope, Action.DELETE)
    ids = selected_ids(request)
    if len(ids) > MAX_BULK:
        messages.error(request, f"Select at most {MAX_BULK} snapshots at a time.")
        return redirect(next_url(request, list_url()))
    chosen = list(visible_snapshots(request.scope).filter(pk__in=ids))
    if not chosen:
        messages.info(request, "Select the snapshots to delete first.")
        return redirect(next_url(request, list_url()))
    deletable, refused = [], []
    for snap in chosen:
        if not can(request.scope, Action.DELETE, snap.project_id):
            refused.append((snap, "Your role does not allow deleting it."))
        elif reason := actions.why_not_deletable(snap):
            refused.append((snap, reason))
        else:
            deletable.append(snap)
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    form = ConfirmForm(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        perform_bulk(
            request,
            actions.delete_snapshots,
            form,
            snapshot_ids=[s.id for s in deletable],
        )
        return redirect(next_url(request, list_url()))
    context = {
        "form": form,
        "snapshots": chosen,
        "refused": refused,
        "action_url": request.path,
        "bulk": True,
        "cancel_url": next_url(request, list_url()),
        "next": next_url(request, ""),
        **dependents_context(request, deletable),
    }
    return render(request, "snapshots/delete_confirm.html", context)
