"""What the action views share: where to go afterwards, and how a failure is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from snapshots.cloud import credentials, errors
from snapshots.cloud.gateway import Gateway
from snapshots.redirects import safe_next_url
from snapshots.services import idempotency
from snapshots.services import snapshots as actions
from snapshots.views.common import client_addr

MAX_BULK = 200  # snapshots per bulk request: a bigger selection is refused, not truncated


def detail_url(snapshot_id: str) -> str:
    """The snapshot's detail page (the tables area), or the list until that page exists."""
    try:
        return reverse("snapshots:detail", args=[snapshot_id])
    except NoReverseMatch:
        return reverse("snapshots:list")


def list_url(highlight: str = "") -> str:
    url = reverse("snapshots:list")
    return f"{url}?highlight={highlight}" if highlight else url


def next_url(request, default: str) -> str:
    return safe_next_url(request, default)


def error_status(exc: errors.CloudError) -> int:
    """The HTTP status of a page re-rendered after Cinder said no (or did not answer)."""
    if isinstance(exc, errors.Unavailable):
        return 503
    if isinstance(exc, errors.Forbidden | errors.NotFound):
        return exc.status_code or 400
    return 400


def show_cloud_error(request, exc: errors.CloudError, *, nothing_changed: bool = True) -> int:
    """Flash Cinder's words (or the outage) and return the status for the re-rendered page."""
    text = exc.user_message()
    if isinstance(exc, errors.Unavailable):
        text += ". Nothing was changed; your input is kept below, send it again in a moment."
    elif nothing_changed:
        text += ". Nothing was changed."
    messages.error(request, text)
    return error_status(exc)


def selected_ids(request) -> list[str]:
    """Snapshot ids from a table selection (`ids`; `pk` and `select` as django-tables2 names)."""
    source = request.POST if request.method == "POST" else request.GET
    ids: list[str] = []
    for name in ("ids", "pk", "select"):
        ids.extend(v.strip() for v in source.getlist(name) if v.strip())
    return list(dict.fromkeys(ids))


def _call(request, service: Callable[..., Any], form, gateway: Gateway | None, arguments):
    return service(
        scope=request.scope,
        gateway=credentials.user_gateway(request) if gateway is None else gateway,
        client_addr=client_addr(request),
        idempotency_key=form.cleaned_data["idempotency_key"],
        **arguments,
    )


def perform(
    request,
    service: Callable[..., Any],
    form,
    *,
    done: Callable[[Any], HttpResponse],
    repeat_url: str,
    refused: str = "",
    nothing_changed: bool = True,
    gateway: Gateway | None = None,
    **arguments: Any,
) -> HttpResponse | int:
    """The POST of a single action: call the service and turn its outcome into a response.

    The service gets the request's scope, gateway (the user's unless `gateway` is given),
    client address and the form's idempotency key, with `arguments`. Returns `done(result)`
    on success and a redirect to `repeat_url` for a repeated or reused form; otherwise the
    message is flashed and the status of the page to re-render is returned: 409 when the
    dashboard refused (`refused` goes before the reason), Cinder's status when it said no or
    did not answer. A revoked token goes on up (sign-out).
    """
    try:
        result = _call(request, service, form, gateway, arguments)
    except (idempotency.InProgress, idempotency.KeyReused) as exc:
        messages.warning(request, str(exc))
        return redirect(repeat_url)
    except actions.ActionRefused as exc:
        messages.error(request, f"{refused}{exc}")
        return 409
    except errors.NotAuthenticated:
        raise
    except errors.CloudError as exc:
        return show_cloud_error(request, exc, nothing_changed=nothing_changed)
    return done(result)


def perform_bulk(request, service: Callable[..., actions.BulkResult], form, **arguments) -> None:
    """The POST of a bulk action (called as `perform` calls it): its summary as one message
    (a warning when not all were done), or why the repeated form was not sent again."""
    try:
        result = _call(request, service, form, None, arguments)
    except (idempotency.InProgress, idempotency.KeyReused) as exc:
        messages.warning(request, str(exc))
    else:
        level = messages.SUCCESS if not result.not_done else messages.WARNING
        messages.add_message(request, level, result.summary())
