"""The snapshot workflows on one snapshot, in the one action shape of action_support.py: make a
volume from it, revert its volume to it, unmanage it (admins). Plus the live list of the volumes
made from it on its detail page. Every GET reads the mirror only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from snapshots.forms.workflows import VolumeFromSnapshotForm
from snapshots.models import Volume
from snapshots.permissions import Action
from snapshots.selectors.workflows import made_volumes_context, quota_context
from snapshots.services.manage import snapshot_unmanage, unmanage_refusal
from snapshots.services.revert import revert_refusal, source_volume, volume_revert_to_snapshot
from snapshots.services.volume_create import create_refusal, volume_create_from_snapshot
from snapshots.views.action_support import (
    ActionView,
    ConfirmView,
    caller_for,
    detail_url,
)
from snapshots.views.common import viewed_snapshot


def _known(field: str) -> list[str]:
    values = Volume.objects.filter(deleted_at__isnull=True).values_list(field, flat=True)
    return sorted({v for v in values.distinct() if v})


# --- create a volume from a snapshot ----------------------------------------------------------
class VolumeCreateView(ActionView):
    permission = Action.CREATE
    template_name = "snapshots/volume_create.html"

    def get_form(self, data):
        snapshot = self.object
        self.source = source_volume(snapshot)
        return VolumeFromSnapshotForm(
            data,
            snapshot_size=snapshot.size,
            source_type=self.source.volume_type if self.source else "",
            source_zone=self.source.availability_zone if self.source else "",
            types=_known("volume_type"),
            # Cinder (cloned_volume_same_az) makes it in the snapshot's zone: offer only that one
            zones=[self.source.availability_zone] if self.source else _known("availability_zone"),
        )

    def run(self, form):
        data = form.cleaned_data
        return volume_create_from_snapshot(
            caller=caller_for(self.request, form),
            snapshot_id=self.object.id,
            size=data["size"],
            name=data["name"],
            description=data["description"],
            volume_type=data["volume_type"],
            availability_zone=data["availability_zone"],
        )

    def succeeded(self, result):
        volume = result.volume
        label = (volume.name or volume.id) if volume else "The new volume"
        messages.success(
            self.request,
            f"Volume “{label}” is being created from this snapshot; it turns available on its own.",
        )
        return redirect(detail_url(self.object.id) + "#made-volumes")

    def context(self, form):
        scope = self.request.dashboard_scope
        size = form["size"].value()
        try:
            size = int(size)
        except (TypeError, ValueError):
            size = self.object.size
        return {
            **super().context(form),
            "source": self.source,
            **quota_context(scope.project_id),
            "refusal": create_refusal(self.object, size=size, project_id=scope.project_id),
        }


# --- revert -----------------------------------------------------------------------------------
class RevertView(ConfirmView):
    permission = Action.REVERT
    template_name = "snapshots/revert_confirm.html"
    service = staticmethod(volume_revert_to_snapshot)
    refused_prefix = "Not reverted: "
    success_message = (
        "The volume is being reverted to this snapshot; both turn available again when Cinder "
        "is done."
    )

    def context(self, form):
        volume = source_volume(self.object)
        return {
            **super().context(form),
            "volume": volume,
            "refusal": revert_refusal(volume, self.object),
        }


# --- unmanage (admins) ------------------------------------------------------------------------
class UnmanageView(ConfirmView):
    permission = Action.MANAGE
    template_name = "snapshots/unmanage_confirm.html"
    service = staticmethod(snapshot_unmanage)
    refused_prefix = "Not unmanaged: "
    success_message = (
        "“{name}” is leaving Cinder; its data stays on the backend, listed under Manageable "
        "snapshots."
    )

    def context(self, form):
        return {**super().context(form), "refusal": unmanage_refusal(self.object)}


# --- the volumes made from a snapshot, live -------------------------------------------------
@login_required
@require_GET
def made_volumes(request, snapshot_id: str):
    """The detail page's "volumes made from this snapshot" section; stops polling once none of
    them is moving."""
    snapshot = viewed_snapshot(request, snapshot_id)
    context = {"snapshot": snapshot, **made_volumes_context(request.dashboard_scope, snapshot)}
    html = render(request, "snapshots/partials/made_volumes.html", context).content
    return (HttpResponse if context["made_volumes_moving"] else HttpResponseStopPolling)(html)


create_volume = VolumeCreateView.as_view()
revert = RevertView.as_view()
unmanage = UnmanageView.as_view()
