"""The snapshot pages: the list (filter, sort, page, export), the detail page and live rows.

Every page reads the mirror through the selectors; none of them calls Cinder. A page with
transitional rows polls `live` (our database, never the cloud) and swaps only rows that changed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling
from django_tables2 import RequestConfig

from snapshots import exports
from snapshots.filters import FILTER_PARAMS, SnapshotFilter
from snapshots.permissions import Action, require
from snapshots.redirects import is_safe_local_path
from snapshots.selectors import get_snapshot
from snapshots.selectors import history as history_selectors
from snapshots.selectors import snapshots as selectors
from snapshots.selectors.workflows import failure_hints, snapshot_workflows
from snapshots.services.preferences import table_preference_save
from snapshots.tables import OPTIONAL_COLUMNS, TABLE_NAME, SnapshotTable, status_cell


def _page_sizes() -> tuple[int, ...]:
    return tuple(sorted(settings.PAGE_SIZES))


def page_size(requested: str | None, remembered: int | None) -> int:
    """The page size: the request's if allowed, capped at the largest; else the remembered one."""
    sizes = _page_sizes()
    default = remembered if remembered in sizes else sizes[0]
    try:
        value = int(requested) if requested else None
    except ValueError:
        return default
    if value is None or value < 1:
        return default
    if value > sizes[-1]:
        return sizes[-1]
    return value if value in sizes else min((s for s in sizes if s >= value), default=sizes[-1])


def paginate(table: SnapshotTable, page: str | None, per_page: int) -> None:
    """Page `table`; a page number past the end shows the last page, nonsense the first.

    Not RequestConfig's paging: it takes `?per_page=` from the URL as is, uncapped. The rows
    are read by `page_of` (ids first), the total by one COUNT.
    """
    try:
        number = int(page) if page else 1
    except ValueError:
        number = 1
    ordered = table.data.data  # the filtered queryset, in the table's order
    table.paginator = Paginator(ordered, per_page)
    number = min(max(number, 1), table.paginator.num_pages)
    table.page = table.paginator.page(number)
    table.page_records = selectors.page_of(ordered, offset=(number - 1) * per_page, limit=per_page)


def build_table(request, data, *, preference=None, project_names=None) -> SnapshotTable:
    """The table as this person set it up: their columns, project names, the request's sort."""
    scope = request.scope
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


@login_required
@require_GET
def snapshot_list(request):
    scope = request.scope
    require(scope, Action.VIEW)
    names = selectors.project_names(scope)
    filterset = SnapshotFilter(
        request.GET or None,
        queryset=selectors.snapshot_list(scope),
        scope=scope,
        project_names=names,
    )
    preference = selectors.table_preference(request.user, TABLE_NAME)
    table = build_table(request, filterset.qs, preference=preference, project_names=names)

    fmt = request.GET.get("export")
    if fmt:
        require(scope, Action.EXPORT)
        if fmt in exports.FORMATS:
            table.order_by = request.GET.get("sort") or table.order_by
            return exports.export_response(fmt, table.data.data, project_names=table.project_names)

    table.highlight = request.GET.get("highlight", "")
    per_page = page_size(request.GET.get("per_page"), preference.per_page if preference else None)
    RequestConfig(request, paginate=False).configure(table)  # the sort; paging is ours
    paginate(table, request.GET.get("page"), per_page)
    hints = failure_hints(table.page_records)
    for record in table.page_records:
        record.failure_hint = hints.get(record.id, "")
    context = {
        "table": table,
        "filter": filterset,
        "has_transitional": any(record.is_transitional for record in table.page_records),
        "column_choices": [(name, table.columns[name].header) for name in table.offered],
        "keep_params": _keep_params(request, drop=("page", "per_page", "export")),
        "sort_keep_params": _keep_params(request, drop=("page", "sort", "export")),
        "sort_choices": _sort_choices(table),
        "settings_next": _path_without(request, ("page", "per_page", "export")),
        "per_page": per_page,
        "page_sizes": _page_sizes(),
        "export_formats": list(exports.FORMATS),
        "bad_export": fmt if fmt and fmt not in exports.FORMATS else "",
        "volume_names": selectors.volume_suggestions(scope),
        "live_poll_seconds": settings.LIVE_POLL_SECONDS,
    }
    if request.htmx and not request.htmx.boosted:
        response = render(request, "snapshots/partials/list_results.html", context)
    else:
        response = render(request, "snapshots/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def table_settings(request):
    """Save the column choice and page size (a POST: GET never changes anything)."""
    require(request.scope, Action.VIEW)
    if request.POST.get("reset"):
        columns: list[str] = []
    else:
        columns = request.POST.getlist("columns")
    per_page = request.POST.get("per_page")
    table_preference_save(
        user=request.user,
        table=TABLE_NAME,
        columns=columns,
        per_page=int(per_page) if per_page and per_page.isdecimal() and len(per_page) < 6 else None,
        allowed_columns=OPTIONAL_COLUMNS,
        allowed_page_sizes=_page_sizes(),
    )
    target = request.POST.get("next", "")
    if not is_safe_local_path(target, request):
        return redirect("snapshots:list")
    # Drop ?per_page= so the saved size shows; keep filters and sort.
    return redirect(target)


@login_required
@require_GET
def live_rows(request):
    """The watched rows whose version grew, as out-of-band rows; 286 once none is transitional.

    One query reads every watched row, whatever their number, and nothing here calls Cinder.
    """
    scope = request.scope
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
    scope = request.scope
    require(scope, Action.VIEW)
    snapshot = get_snapshot(scope, snapshot_id)
    timeline = history_selectors.snapshot_timeline(snapshot)
    context = {
        "snapshot": snapshot,
        "status_html": status_cell(snapshot),
        "timeline": timeline,
        "volume": selectors.source_volume(scope, snapshot),
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
    scope = request.scope
    require(scope, Action.VIEW)
    snapshot = get_snapshot(scope, snapshot_id)
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
