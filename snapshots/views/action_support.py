"""What the action views share: where to go afterwards, and how a failure is shown."""

from __future__ import annotations

from django.contrib import messages
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from snapshots.cloud import errors

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
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


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
