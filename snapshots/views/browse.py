"""The snapshot pages: the list (filter, sort, page, export), the detail page and live rows.

Every page reads the mirror through the selectors; none of them calls Cinder. A page with
transitional rows polls `live` (our database, never the cloud) and swaps only rows that changed.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from snapshots.filters import FILTER_PARAMS, SnapshotFilter
from snapshots.permissions import Action, require
from snapshots.redirects import is_safe_local_path
from snapshots.selectors import audit as audit_selectors
from snapshots.selectors import history as history_selectors
from snapshots.selectors import snapshots as selectors
from snapshots.selectors.workflows import failure_hints, snapshot_workflows
from snapshots.services.preferences import table_preference_save
from snapshots.tables import OPTIONAL_COLUMNS, TABLE_NAME, SnapshotTable, status_cell
from snapshots.templatetags.reveal import reveal_text
from snapshots.views.common import viewed_snapshot
from snapshots.views.lists import ListPage, page_size, page_sizes


def build_table(request, data, *, preference=None, project_names=None) -> SnapshotTable:
    """The table as this person set it up: their columns, project names, the request's sort."""
    scope = request.dashboard_scope
    several = selectors.sees_several_projects(scope)
    if several and project_names is None:
        project_names = selectors.project_names(scope)
    table = SnapshotTable(
        data,
        columns=preference.columns if preference else None,
        project_names=project_names if several else {},
        several_projects=several,
    )
    table.request = request  # not as an argument: that would page it by the raw ?per_page=
    return table


def datalist_options(values: list[str]) -> SafeString:
    """`<option>`s of a datalist, escaped: up to 200 of them, cheaper here than in a loop of
    the template engine."""
    return mark_safe(  # noqa: S308
        "".join(
            f'<option value="{escape(v)}" label="{escape(reveal_text(v))}"></option>'
            for v in values
        )
    )


SUGGESTIONS_FOR = 60  # seconds a process reuses the volume names it offered
_suggestions: dict[frozenset[str] | None, tuple[float, SafeString]] = {}


def volume_options(scope) -> SafeString:
    """The volume filter's suggestions for this scope, read at most once a minute per process:
    they only help typing (any volume can still be typed), and they cost a query and 200
    escapes on every full page."""
    key = scope.readable_projects
    now = time.monotonic()
    cached = _suggestions.get(key)
    if cached is None or cached[0] < now:
        if len(_suggestions) > 1000:
            _suggestions.clear()
        cached = (now + SUGGESTIONS_FOR, datalist_options(selectors.volume_suggestions(scope)))
        _suggestions[key] = cached
    return cached[1]


def _keep_params(request, *, drop: tuple[str, ...]) -> list[tuple[str, str]]:
    """The query's (name, value) pairs minus `drop`, for GET forms that must keep the rest."""
    keep = (*FILTER_PARAMS, "sort", "per_page", "page")
    return [
        (name, value)
        for name, values in request.GET.lists()
        if name in keep and name not in drop
        for value in values
    ]


def _sort_choices(table: SnapshotTable) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for the phone-sized sort menu (the headers are hidden there)."""
    current = str(table.order_by[0]) if table.order_by else ""
    choices = []
    for column in table.columns:
        if column.orderable:
            for value, way in ((column.name, "ascending"), ("-" + column.name, "descending")):
                choices.append((value, f"{column.header}, {way}", value == current))
    return choices


def _path_without(request, drop: tuple[str, ...]) -> str:
    query = urlencode(_keep_params(request, drop=drop))
    return request.path + ("?" + query if query else "")


class SnapshotListView(LoginRequiredMixin, ListPage):
    """The snapshot list: the person's own columns and page size, live rows, phone sorting."""

    table_class = SnapshotTable
    filterset_class = SnapshotFilter
    template_name = "snapshots/list.html"
    partial_template = "snapshots/partials/list_results.html"
    export_name = "snapshots"
    title = "Snapshots"

    def get_queryset(self):
        self.preference = selectors.table_preference(self.request.user, TABLE_NAME)
        return selectors.snapshot_list(self.request.dashboard_scope)

    def get_table_kwargs(self) -> dict:
        several = selectors.sees_several_projects(self.request.dashboard_scope)
        return {
            "columns": self.preference.columns if self.preference else None,
            "project_names": self.project_names if several else {},
            "several_projects": several,
        }

    def remembered_page_size(self) -> int | None:
        return self.preference.per_page if self.preference else None

    def page_records(self, queryset, offset: int, limit: int) -> list:
        return selectors.page_of(queryset, offset=offset, limit=limit)

    def get_extra_context(self, table, filterset) -> dict:
        request = self.request
        table.highlight = request.GET.get("highlight", "")
        hints = failure_hints(table.page_records)  # Cinder's word for failed rows, from the mirror
        for record in table.page_records:
            record.failure_hint = hints.get(record.id, "")
        return {
            "has_transitional": any(record.is_transitional for record in table.page_records),
            "column_choices": [(name, table.columns[name].header) for name in table.offered],
            "keep_params": _keep_params(request, drop=("page", "per_page", "export")),
            "sort_keep_params": _keep_params(request, drop=("page", "sort", "export")),
            "sort_choices": _sort_choices(table),
            "settings_next": _path_without(request, ("page", "per_page", "export")),
            "volume_options": volume_options(request.dashboard_scope),
            "live_poll_seconds": settings.LIVE_POLL_SECONDS,
        }


snapshot_list = SnapshotListView.as_view()


@login_required
@require_POST
def table_settings(request):
    """Save the column choice and page size (a POST: GET never changes anything)."""
    require(request.dashboard_scope, Action.VIEW)
    if request.POST.get("reset"):
        columns: list[str] = []
    else:
        columns = request.POST.getlist("columns")
    per_page = request.POST.get("per_page", "")
    if per_page and not (per_page.isascii() and per_page.isdigit()):
        return HttpResponseBadRequest("per_page must be a number.", content_type="text/plain")
    table_preference_save(
        user=request.user,
        table=TABLE_NAME,
        columns=columns,
        per_page=page_size(per_page) if per_page else None,
        allowed_columns=OPTIONAL_COLUMNS,
        allowed_page_sizes=page_sizes(),
    )
    target = request.POST.get("next", "")
    if not is_safe_local_path(target, request):
        return redirect("snapshots:list")
    # Drop ?per_page= so the saved size shows; keep filters and sort.
    return HttpResponseRedirect(target)


@login_required
@require_GET
def live_rows(request):
    """The watched rows whose version grew, as out-of-band rows; 286 once none is transitional.

    One query reads every watched row, whatever their number, and nothing here calls Cinder.
    """
    scope = request.dashboard_scope
    require(scope, Action.VIEW)
    watched = selectors.parse_watched(request.GET.getlist("row"))
    answer = selectors.live_changes(scope, watched)
    if not answer.changed and not answer.gone:
        if answer.watching:
            return HttpResponse(status=204)
        return HttpResponseStopPolling()
    preference = selectors.table_preference(request.user, TABLE_NAME)
    table = build_table(request, answer.changed, preference=preference)
    table.live_update = True
    html = render_to_string(
        "snapshots/partials/live.html",
        {"table": table, "gone": answer.gone, "changed": answer.changed},
        request=request,
    )
    response_class = HttpResponse if answer.watching else HttpResponseStopPolling
    return response_class(html)


@login_required
@require_GET
def snapshot_detail(request, snapshot_id: str):
    scope = request.dashboard_scope
    snapshot = viewed_snapshot(request, snapshot_id)
    timeline = history_selectors.snapshot_timeline(snapshot)
    context = {
        "snapshot": snapshot,
        "status_html": status_cell(snapshot),
        "timeline": timeline,
        "volume": selectors.source_volume(scope, snapshot),
        "audit": audit_selectors.snapshot_audit(scope, snapshot),
        "project_name": selectors.project_names(scope).get(snapshot.project_id)
        or snapshot.project_name,
        "live_poll_seconds": settings.LIVE_POLL_SECONDS,
        **snapshot_workflows(scope, snapshot),
    }
    return render(request, "snapshots/detail.html", context)


@login_required
@require_GET
def snapshot_detail_live(request, snapshot_id: str):
    """The detail page's status panel and timeline when the version grew; 286 once settled."""
    snapshot = viewed_snapshot(request, snapshot_id)
    seen = selectors.parse_watched(request.GET.getlist("row")).get(snapshot.pk)
    if seen == snapshot.version:
        if snapshot.is_transitional:
            return HttpResponse(status=204)
        return HttpResponseStopPolling()
    context = {
        "snapshot": snapshot,
        "status_html": status_cell(snapshot),
        "timeline": history_selectors.snapshot_timeline(snapshot),
        "oob": True,
    }
    html = render_to_string("snapshots/partials/detail_live.html", context, request=request)
    response_class = HttpResponse if snapshot.is_transitional else HttpResponseStopPolling
    return response_class(html)
