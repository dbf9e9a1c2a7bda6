"""The one shape of every action view, and the one place its failures become a message.

An action view (NetBox's edit/delete views are the model) gets its object through the scoped
selector (404 for another project's), checks the permission, validates its form, calls ONE
service and says what happened. The project's errors (ActionRefused, the cloud's errors, an
outcome nobody knows yet, a reused form) are turned into a message in `failed()` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_http_methods

from snapshots.forms.snapshots import ConfirmForm
from snapshots.models import Snapshot
from snapshots.permissions import Action, require
from snapshots.redirects import safe_next_url
from snapshots.selectors import get_snapshot, visible_snapshots
from snapshots.services import gateways, idempotency
from snapshots.services.errors import ActionRefused, CloudError, NotAuthenticated, OutcomeUnknown
from snapshots.services.snapshots import Caller
from snapshots.views.common import client_addr

MAX_BULK = 200  # snapshots per bulk request: a bigger selection is refused, not truncated


def detail_url(snapshot_id: str) -> str:
    return reverse("snapshots:detail", args=[snapshot_id])


def list_url(highlight: str = "") -> str:
    url = reverse("snapshots:list")
    return f"{url}?highlight={highlight}" if highlight else url


def next_url(request, default: str) -> str:
    return safe_next_url(request, default)


def selected_ids(request) -> list[str]:
    """Snapshot ids from a table selection (`ids`; `pk` and `select` as django-tables2 names)."""
    source = request.POST if request.method == "POST" else request.GET
    ids: list[str] = []
    for name in ("ids", "pk", "select"):
        ids.extend(v.strip() for v in source.getlist(name) if v.strip())
    return list(dict.fromkeys(ids))


def error_status(exc: CloudError) -> int:
    """The HTTP status of a page re-rendered after Cinder said no (or did not answer)."""
    if exc.status_code in (403, 404):
        return exc.status_code
    if exc.status_code is None or exc.status_code >= 500:
        return 503
    return 400


def caller_for(request, form) -> Caller:
    """Who runs an action service: the person's scope and gateway, the address the request
    came from, and the form's idempotency key."""
    return Caller(
        scope=request.dashboard_scope,
        gateway=gateways.for_request(request),
        client_addr=client_addr(request),
        key=form.cleaned_data["idempotency_key"],
    )


@method_decorator(login_required, name="dispatch")
@method_decorator(require_http_methods(["GET", "POST"]), name="dispatch")
class ActionView(View):
    """GET shows the form; POST validates it and runs the action. Subclasses say which
    permission, which form, which ONE service call (`run`) and what success says."""

    permission: Action
    template_name: str
    refused_prefix = ""  # put before a local refusal's reason, e.g. "Not deleted: "
    object: Snapshot | None = None

    # --- what a subclass provides ---------------------------------------------------------
    def get_object(self) -> Snapshot | None:
        snapshot_id = self.kwargs.get("snapshot_id")
        return get_snapshot(self.request.dashboard_scope, snapshot_id) if snapshot_id else None

    def project_id(self) -> str | None:
        if self.object is not None:
            return self.object.project_id
        return self.request.dashboard_scope.project_id if self.request.dashboard_scope else None

    def get_form(self, data):
        raise NotImplementedError

    def form_valid(self, form) -> bool:
        return form.is_valid()

    def run(self, form) -> Any:
        """Call the one service with `caller_for(request, form)` and the form's data."""
        raise NotImplementedError

    def succeeded(self, result) -> HttpResponse:
        raise NotImplementedError

    def run_on_object(self, service: Callable[..., Any], form, *fields: str) -> Any:
        """`service` on this page's snapshot, as `caller_for` the request, with the named form
        fields."""
        data = form.cleaned_data
        return service(
            caller=caller_for(self.request, form),
            snapshot_id=self.object.id,
            **{name: data[name] for name in fields},
        )

    def context(self, form) -> dict[str, Any]:
        """The form, and the page's snapshot with the link back to it (when there is one)."""
        if self.object is None:
            return {"form": form, "snapshot": None}
        return {"form": form, "snapshot": self.object, "detail_url": detail_url(self.object.id)}

    def back_url(self) -> str:
        """Where a repeated or reused form sends the person."""
        return detail_url(self.object.id) if self.object is not None else list_url()

    # --- the shape ------------------------------------------------------------------------
    def setup_action(self) -> None:
        self.object = self.get_object()
        require(self.request.dashboard_scope, self.permission, self.project_id())

    def get(self, request, **kwargs):
        self.setup_action()
        return self.page(self.get_form(None))

    def post(self, request, **kwargs):
        self.setup_action()
        form = self.get_form(request.POST)
        if not self.form_valid(form):
            return self.invalid(form)
        try:
            result = self.run(form)
        except NotAuthenticated:
            raise  # the middleware signs the person out
        except (ActionRefused, CloudError, idempotency.InProgress, idempotency.KeyReused) as exc:
            return self.failed(form, exc)
        if getattr(result, "recorded", True) is False:
            messages.warning(
                request,
                "Cinder did it, but the dashboard could not record it yet; the list catches "
                "up within a minute.",
            )
        return self.succeeded(result)

    def page(self, form, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.context(form), status=status)

    def invalid(self, form) -> HttpResponse:
        return self.page(form, status=400)

    def failed(self, form, exc: Exception) -> HttpResponse:
        """The one place where an action's failure becomes what the person sees."""
        request = self.request
        if isinstance(exc, idempotency.InProgress | idempotency.KeyReused):
            messages.warning(request, str(exc))
            return redirect(self.back_url())
        if isinstance(exc, OutcomeUnknown):
            messages.warning(
                request, "Cinder did not answer in time; we are checking whether it was done."
            )
            return redirect(f"{reverse('snapshots:operation')}?event={exc.event_id}")
        if isinstance(exc, ActionRefused):
            messages.error(request, f"{self.refused_prefix}{exc}")
            return self.page(form, status=409)
        assert isinstance(exc, CloudError)
        text = exc.user_message()
        if exc.partly_done:
            text += ". Part of the change was made; the page shows what Cinder now has."
        elif exc.status_code is None or exc.status_code >= 500:
            text += ". Nothing was changed; your input is kept below, send it again in a moment."
        else:
            text += ". Nothing was changed."
        messages.error(request, text)
        return self.page(form, status=error_status(exc))


class BulkActionView(ActionView):
    """An action on a selection of snapshots: a confirmation page, then one bulk service."""

    def get_object(self) -> None:
        return None

    def project_id(self) -> None:
        return None

    def setup_action(self) -> None:
        require(self.request.dashboard_scope, self.permission)
        self.chosen: list[Snapshot] = []
        ids = selected_ids(self.request)
        if len(ids) > MAX_BULK:
            messages.error(self.request, f"Select at most {MAX_BULK} snapshots at a time.")
            return
        self.chosen = list(visible_snapshots(self.request.dashboard_scope).filter(pk__in=ids))
        if not self.chosen:
            messages.info(self.request, "Select the snapshots first.")

    def confirmed(self) -> bool:
        return self.request.method == "POST" and self.request.POST.get("confirm") == "yes"

    def get_form(self, data):
        return ConfirmForm(data)

    def context(self, form) -> dict[str, Any]:
        """The confirmation page: the selection, and where cancel and done lead."""
        return {
            "form": form,
            "snapshots": self.chosen,
            "cancel_url": next_url(self.request, list_url()),
            "next": next_url(self.request, ""),
        }

    def get(self, request, **kwargs):
        return self.post(request, **kwargs)

    def post(self, request, **kwargs):
        self.setup_action()
        if not self.chosen:
            return redirect(next_url(request, list_url()))
        form = self.get_form(request.POST if self.confirmed() else None)
        if not self.confirmed():
            return self.page(form)
        if not form.is_valid():
            return self.invalid(form)
        try:
            result = self.run(form)
        except (idempotency.InProgress, idempotency.KeyReused) as exc:
            messages.warning(request, str(exc))
        else:
            level = messages.SUCCESS if not result.not_done else messages.WARNING
            messages.add_message(request, level, result.summary())
        return redirect(next_url(request, list_url()))


class ConfirmView(ActionView):
    """A single-snapshot confirmation (delete, force delete): its form is only the key, so an
    incomplete one is a broken page, not a person's typing mistake."""

    # the single-snapshot service, called with the request's arguments and the snapshot's id
    service: Callable[..., Any]
    success_message: str  # {name} stands for the snapshot's name (its id when it has none)
    leaves_for_list = False  # the snapshot is going away: success and a repeat go to the list

    def get_form(self, data):
        return ConfirmForm(data)

    def succeeded(self, result) -> HttpResponse:
        snapshot = self.object
        messages.success(
            self.request, self.success_message.format(name=snapshot.name or snapshot.id)
        )
        if self.leaves_for_list:
            return redirect(next_url(self.request, list_url()))
        return redirect(detail_url(snapshot.id))

    def back_url(self) -> str:
        return list_url() if self.leaves_for_list else super().back_url()

    def run(self, form) -> Any:
        return self.run_on_object(self.service, form)

    def invalid(self, form) -> HttpResponse:
        return HttpResponseBadRequest("The form was incomplete; reload the page.")
