"""Manageable snapshots (admins): what a backend holds that Cinder does not manage, per host,
and the form that brings one under Cinder's management.

The page reads the mirror; reading the backend again is a POST (it asks the backend's driver).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from snapshots.forms.snapshots import metadata_formset
from snapshots.forms.workflows import HostForm, ManageForm
from snapshots.models import ManageableSnapshot, Volume
from snapshots.permissions import Action, require
from snapshots.selectors.workflows import quota_context
from snapshots.services import gateways
from snapshots.services.errors import CloudError, NotAuthenticated
from snapshots.services.manage import manage_refusal, refresh_manageable, snapshot_manage
from snapshots.tables.manageable import ManageableTable
from snapshots.views.action_support import ActionView, caller_for, detail_url
from snapshots.views.common import small_int


def manageable_url(host: str = "") -> str:
    url = reverse("snapshots:manageable")
    return f"{url}?{urlencode({'host': host})}" if host else url


@login_required
@require_GET
def manageable_list(request):
    scope = request.dashboard_scope
    require(scope, Action.MANAGE)
    form = HostForm(request.GET or None)
    host = form.cleaned_data["host"] if form.is_valid() else ""
    entries = list(ManageableSnapshot.objects.filter(host=host)) if host else []
    volumes = Volume.objects.in_bulk([e.source_volume_id for e in entries])
    hosts = sorted(set(ManageableSnapshot.objects.values_list("host", flat=True)))
    return render(
        request,
        "snapshots/manageable.html",
        {
            "form": form,
            "host": host,
            "hosts": hosts,
            "table": ManageableTable(entries, host=host, volumes=volumes),
            "fetched_at": max((e.fetched_at for e in entries), default=None),
        },
    )


@login_required
@require_POST
def manageable_refresh(request):
    """Read the host's manageable snapshots from Cinder into the mirror."""
    scope = request.dashboard_scope
    require(scope, Action.MANAGE)
    form = HostForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(form.errors.get("host", ["Give a host."])))
        return redirect(manageable_url())
    host = form.cleaned_data["host"]
    try:
        count = refresh_manageable(scope=scope, gateway=gateways.for_request(request), host=host)
    except NotAuthenticated:
        raise
    except CloudError as exc:
        messages.error(request, f"{exc.user_message()}. The list was not read again.")
    else:
        messages.success(request, f"Cinder lists {count} snapshot{'s' * (count != 1)} on {host}.")
    return redirect(manageable_url(host))


class ManageView(ActionView):
    permission = Action.MANAGE
    template_name = "snapshots/manage.html"

    def dispatch(self, request, *args, **kwargs):
        if small_int(request.GET.get("entry")) is None:  # no backend snapshot chosen yet
            return redirect(manageable_url())
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        self.entry = get_object_or_404(ManageableSnapshot, pk=small_int(self.request.GET["entry"]))
        self.volume = Volume.objects.filter(pk=self.entry.source_volume_id).first()
        return None

    def get_form(self, data):
        self.rows = metadata_formset(data, on_create=True)
        return ManageForm(data)

    def form_valid(self, form) -> bool:
        return form.is_valid() and self.rows.is_valid()

    def run(self, form):
        return snapshot_manage(
            caller=caller_for(self.request, form),
            entry_id=self.entry.id,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            metadata=self.rows.wanted(),
        )

    def succeeded(self, result):
        row = result.snapshot
        messages.success(
            self.request,
            "Cinder is taking the snapshot under its management; it turns available on its own.",
        )
        return redirect(detail_url(row.id) if row else manageable_url(self.entry.host))

    def back_url(self) -> str:
        return manageable_url(self.entry.host)

    def context(self, form):
        scope = self.request.dashboard_scope
        return {
            "form": form,
            "rows": self.rows,
            "entry": self.entry,
            "volume": self.volume,
            **quota_context(scope.project_id),
            "refusal": manage_refusal(self.entry, self.volume, scope.project_id),
            "cancel_url": manageable_url(self.entry.host),
        }


manage = ManageView.as_view()
