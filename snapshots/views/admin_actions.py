"""Admin repairs: force delete, reset status, set status and progress, and their bulk forms,
in the one action shape of action_support.py. The permission is checked before the page is
shown (a member gets 403 and nothing reaches Cinder), and again per snapshot in the service."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from snapshots.forms.admin_actions import BulkResetStatusForm, ResetStatusForm, SetStatusForm
from snapshots.permissions import Action
from snapshots.services.eligibility import (
    allowed_set_statuses,
    why_not_force_deletable,
    why_not_settable,
)
from snapshots.services.snapshot_bulk import snapshots_force_delete, snapshots_reset_status
from snapshots.services.snapshot_delete import snapshot_force_delete
from snapshots.services.snapshot_repair import snapshot_reset_status, snapshot_set_status
from snapshots.views.action_support import (
    ActionView,
    BulkActionView,
    caller_for,
    detail_url,
    next_url,
)
from snapshots.views.actions import DeleteView, dependents_context


class RepairView(ActionView):
    """A repair of one snapshot: success goes back to it with what was done."""

    def done(self, text: str):
        messages.success(self.request, f"“{self.object.name or self.object.id}”: {text}")
        return redirect(next_url(self.request, detail_url(self.object.id)))

    def context(self, form):
        return {"form": form, "snapshot": self.object, "cancel_url": detail_url(self.object.id)}


class ForceDeleteView(DeleteView):
    """A delete whatever the status (admins); refused only for a snapshot already gone."""

    permission = Action.FORCE_DELETE
    template_name = "snapshots/admin_force_delete.html"
    service = staticmethod(snapshot_force_delete)
    success_message = "Force deletion of “{name}” has been scheduled."

    def refusal(self) -> str:
        return why_not_force_deletable(self.object)


class ResetStatusView(RepairView):
    permission = Action.RESET_STATUS
    template_name = "snapshots/admin_reset_status.html"

    def get_form(self, data):
        return ResetStatusForm(data, current=self.object.status)

    def run(self, form):
        self.wanted = form.cleaned_data["status"]
        return self.run_on_object(snapshot_reset_status, form, "status", "reason")

    def succeeded(self, result):
        return self.done(f"status reset to {self.wanted}.")


class SetStatusView(RepairView):
    permission = Action.SET_STATUS
    template_name = "snapshots/admin_set_status.html"

    def get_form(self, data):
        return SetStatusForm(data, current=self.object.status)

    def form_valid(self, form) -> bool:
        return not why_not_settable(self.object.status) and form.is_valid()

    def invalid(self, form):
        if why_not_settable(self.object.status):
            messages.error(self.request, why_not_settable(self.object.status))
            return self.page(form, status=409)
        return super().invalid(form)

    def run(self, form):
        return self.run_on_object(snapshot_set_status, form, "status", "progress")

    def succeeded(self, result):
        row = result.snapshot
        progress = "" if row is None or row.progress is None else f" ({row.progress} %)"
        return self.done(f"status set to {row.status if row else ''}{progress}.")

    def context(self, form):
        return {**super().context(form), "allowed": allowed_set_statuses(self.object.status)}


# --- bulk -------------------------------------------------------------------------------------
class BulkForceDeleteView(BulkActionView):
    permission = Action.FORCE_DELETE
    template_name = "snapshots/admin_force_delete.html"

    def run(self, form):
        return snapshots_force_delete(
            caller=caller_for(self.request, form), snapshot_ids=[s.id for s in self.chosen]
        )

    def context(self, form):
        return {
            **super().context(form),
            "bulk": True,
            **dependents_context(self.request.dashboard_scope, self.chosen),
        }


class BulkResetStatusView(BulkActionView):
    permission = Action.RESET_STATUS
    template_name = "snapshots/admin_bulk_reset_status.html"

    def get_form(self, data):
        return BulkResetStatusForm(data)

    def run(self, form):
        return snapshots_reset_status(
            caller=caller_for(self.request, form),
            snapshot_ids=[s.id for s in self.chosen],
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )


force_delete = ForceDeleteView.as_view()
reset_status = ResetStatusView.as_view()
set_status = SetStatusView.as_view()
bulk_force_delete = BulkForceDeleteView.as_view()
bulk_reset_status = BulkResetStatusView.as_view()
