"""Member actions: create, edit, metadata and delete (single and bulk), in the one action shape
of action_support.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from snapshots.forms.snapshots import (
    ConfirmForm,
    MetadataForm,
    SnapshotCreateForm,
    SnapshotEditForm,
    metadata_formset,
)
from snapshots.permissions import Action, can
from snapshots.selectors.workflows import quota_context
from snapshots.services import dependents
from snapshots.services.eligibility import keep_posted_volume, project_volumes, why_not_deletable
from snapshots.services.snapshot_bulk import snapshots_delete
from snapshots.services.snapshot_create import snapshot_create
from snapshots.services.snapshot_delete import snapshot_delete
from snapshots.services.snapshot_edit import snapshot_update, snapshot_update_metadata
from snapshots.views.action_support import (
    ActionView,
    BulkActionView,
    ConfirmView,
    caller_for,
    detail_url,
    list_url,
    next_url,
)


def dependents_context(scope, snapshots: list) -> dict:
    """Each snapshot with the volumes made from it, from the volume mirror."""
    found = dependents.volumes_from(scope, [s.id for s in snapshots])
    items = [(s, found.get(s.id, [])) for s in snapshots]
    return {
        "items": items,
        "children_known": True,
        "children_total": sum(len(v) for _, v in items),
    }


# --- create -----------------------------------------------------------------------------------
class CreateView(ActionView):
    permission = Action.CREATE
    template_name = "snapshots/create.html"

    def get_form(self, data):
        self.volumes = project_volumes(scope=self.request.dashboard_scope)
        if data is not None:
            self.volumes = keep_posted_volume(self.volumes, data.get("volume", ""))
        self.rows = metadata_formset(data, on_create=True)
        return SnapshotCreateForm(
            data,
            initial={"volume": self.request.GET.get("volume", "")},
            volumes=self.volumes.choices,
            needs_force=self.volumes.needs_force,
        )

    def form_valid(self, form) -> bool:
        return form.is_valid() and self.rows.is_valid()

    def run(self, form):
        chosen = form.chosen()
        return snapshot_create(
            caller=caller_for(self.request, form),
            volume_id=form.cleaned_data["volume"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            metadata=self.rows.wanted(),
            force=bool(form.cleaned_data.get("force")),
            volume_name=chosen.name if chosen else None,
        )

    def succeeded(self, result):
        row = result.snapshot
        label = (row.name or row.id) if row else "the new snapshot"
        messages.success(
            self.request,
            f"Snapshot “{label}” is being created; it turns available on its own.",
        )
        return redirect(list_url(highlight=row.id if row else ""))

    def back_url(self) -> str:
        return list_url()

    def context(self, form):
        return {
            "form": form,
            "rows": self.rows,
            "volumes": self.volumes,
            "chosen": form.chosen(),
            **quota_context(self.request.dashboard_scope.project_id),
        }


# --- edit -------------------------------------------------------------------------------------
class EditView(ActionView):
    permission = Action.EDIT
    template_name = "snapshots/edit.html"

    def get_form(self, data):
        initial = {"name": self.object.name, "description": self.object.description}
        return SnapshotEditForm(data, initial=initial)

    def run(self, form):
        return self.run_on_object(snapshot_update, form, "name", "description")

    def succeeded(self, result):
        if result.changed:
            messages.success(self.request, "Snapshot saved.")
        else:
            messages.info(self.request, "Nothing to change.")
        return redirect(detail_url(self.object.id))


class MetadataView(ActionView):
    permission = Action.EDIT
    template_name = "snapshots/metadata.html"

    def get_form(self, data):
        self.rows = metadata_formset(data, initial=self.object.metadata, on_create=False, extra=1)
        return MetadataForm(data)

    def form_valid(self, form) -> bool:
        return form.is_valid() and self.rows.is_valid()

    def run(self, form):
        self.to_set, self.to_remove = self.rows.changes()
        return snapshot_update_metadata(
            caller=caller_for(self.request, form),
            snapshot_id=self.object.id,
            set_items=self.to_set,
            remove_keys=self.to_remove,
        )

    def succeeded(self, result):
        if not result.changed:
            messages.info(self.request, "Nothing to change.")
            return redirect(detail_url(self.object.id))
        parts = []
        if self.to_set:
            parts.append(f"set {', '.join(sorted(self.to_set))}")
        if self.to_remove:
            parts.append(f"removed {', '.join(sorted(self.to_remove))}")
        messages.success(self.request, f"Metadata saved: {'; '.join(parts)}.")
        return redirect(detail_url(self.object.id))

    def context(self, form):
        return {**super().context(form), "rows": self.rows}


# --- delete -----------------------------------------------------------------------------------
class DeleteView(ConfirmView):
    permission = Action.DELETE
    template_name = "snapshots/delete_confirm.html"
    service = staticmethod(snapshot_delete)
    refused_prefix = "Not deleted: "
    leaves_for_list = True
    success_message = (
        "Deletion of “{name}” has been scheduled; it disappears from the list once Cinder has "
        "removed it."
    )

    def refusal(self) -> str:
        """Why this snapshot cannot be deleted (the page offers no button then)."""
        return why_not_deletable(self.object)

    def context(self, form):
        snapshot = self.object
        reason = self.refusal()
        return {
            "form": form,
            "snapshots": [snapshot],
            "refused": [(snapshot, reason)] if reason else [],
            "action_url": self.request.path,
            "bulk": False,
            "cancel_url": detail_url(snapshot.id),
            "next": next_url(self.request, ""),
            **dependents_context(self.request.dashboard_scope, [] if reason else [snapshot]),
        }


class BulkDeleteView(BulkActionView):
    permission = Action.DELETE
    template_name = "snapshots/delete_confirm.html"

    def get_form(self, data):
        scope = self.request.dashboard_scope
        self.deletable, self.refused = [], []
        for snap in self.chosen:
            if not can(scope, Action.DELETE, snap.project_id):
                self.refused.append((snap, "Your role does not allow deleting it."))
            elif reason := why_not_deletable(snap):
                self.refused.append((snap, reason))
            else:
                self.deletable.append(snap)
        return ConfirmForm(data)

    def run(self, form):
        return snapshots_delete(
            caller=caller_for(self.request, form),
            snapshot_ids=[s.id for s in self.deletable],
        )

    def context(self, form):
        return {
            **super().context(form),
            "refused": self.refused,
            "action_url": self.request.path,
            "bulk": True,
            **dependents_context(self.request.dashboard_scope, self.deletable),
        }


create = CreateView.as_view()
edit = EditView.as_view()
metadata = MetadataView.as_view()
delete = DeleteView.as_view()
bulk_delete = BulkDeleteView.as_view()
