"""The one pipeline of every list page (the snapshots, the audit log, the status history).

GET only: scope the rows (a selector), filter them (a filterset), put them in a table sorted by
`?sort=`, then either export every row (`?export=csv|json|xlsx`, the table's own columns), or
show one page of a capped size (`?page=`, `?per_page=`) as the htmx partial (a non-boosted
htmx request) or the full page. A subclass names its parts and adds its own context.

Bad input never costs more than a normal page: an unknown export format is a 400, a page size
is snapped to an allowed one, a page number out of range or not a number shows the nearest
page, an unknown sort keeps the default order, and filter errors show next to their fields.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.views import View
from django_filters import FilterSet
from django_tables2 import Table
from django_tables2.rows import BoundRows

from snapshots import memo
from snapshots.permissions import Action, require
from snapshots.selectors.snapshots import project_names
from snapshots.tables import export

EXPORT_PARAM = "export"
SORT_PARAM = "sort"


def page_sizes() -> tuple[int, ...]:
    return tuple(sorted(settings.PAGE_SIZES))


def page_size(requested: str | None, remembered: int | None = None) -> int:
    """The page size: the request's if allowed (else the next allowed one up, at most the
    largest); without a usable request, the remembered size, else the smallest."""
    sizes = page_sizes()
    default = remembered if remembered in sizes else sizes[0]
    if not requested or not requested.isascii() or not requested.isdigit():
        return default
    value = int(requested[:6])  # six digits are past every size; more only cost time
    if value < 1:
        return default
    return min((s for s in sizes if s >= value), default=sizes[-1])


def page_number(requested: str | None) -> int:
    if not requested or not requested.isascii() or not requested.isdigit():
        return 1
    return int(requested[:9])  # past any real last page; the paginator clamps it


class RememberedCountPaginator(Paginator):
    """Counts the filtered rows once per change of the data (memo), not on every page: at
    100,000 rows the COUNT was most of a list page's database time."""

    @cached_property
    def count(self) -> int:
        return memo.count(self.object_list)


class ListPage(View):
    """Subclasses set the class attributes and `get_queryset()`; see the module docstring."""

    http_method_names = ["get", "head", "options"]
    table_class: type[Table]
    filterset_class: type[FilterSet]
    template_name = ""
    partial_template = ""
    export_name = ""  # the download's file name starts with this
    title = ""
    # True: an invalid filter lists nothing (the form says why); False: that field is left out.
    strict_filters = False

    # -- the parts a subclass names or adjusts -----------------------------------------------
    def get_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_table_kwargs(self) -> dict:
        return {"project_names": self.project_names}

    def remembered_page_size(self) -> int | None:
        return None

    def page_records(self, queryset: QuerySet, offset: int, limit: int) -> list:
        return list(queryset[offset : offset + limit])

    def get_extra_context(self, table: Table, filterset: FilterSet) -> dict:
        return {}

    # -- the pipeline --------------------------------------------------------------------------
    def get(self, request, *args, **kwargs) -> HttpResponse:
        scope = request.dashboard_scope
        require(scope, Action.VIEW)
        fmt = request.GET.get(EXPORT_PARAM)
        if fmt is not None:
            require(scope, Action.EXPORT)
            if fmt not in export.FORMATS:
                return HttpResponseBadRequest(
                    "Unknown export format: choose csv, json or xlsx.", content_type="text/plain"
                )
        self.project_names = project_names(scope)
        filterset = self.filterset_class(
            request.GET or None,
            queryset=self.get_queryset(),
            scope=scope,
            project_names=self.project_names,
        )
        rows = filterset.qs
        if self.strict_filters and filterset.is_bound and not filterset.is_valid():
            rows = rows.none()
        table = self.table_class(rows, exporting=fmt is not None, **self.get_table_kwargs())
        table.request = request
        self.sort(table, request.GET.get(SORT_PARAM))
        if fmt is not None:
            return export.export_response(fmt, table, name=self.export_name, title=self.title)

        per_page = page_size(request.GET.get("per_page"), self.remembered_page_size())
        self.paginate(table, page_number(request.GET.get("page")), per_page)
        context = {
            "table": table,
            "filter": filterset,
            "title": self.title,
            "per_page": per_page,
            "page_sizes": page_sizes(),
            "export_formats": list(export.FORMATS),
            "xlsx_max_rows": export.xlsx_max_rows(),
            "sees_all": scope.sees_all_projects,
            **self.get_extra_context(table, filterset),
        }
        htmx = getattr(request, "htmx", None)
        template = self.partial_template if htmx and not htmx.boosted else self.template_name
        response = render(request, template, context)
        patch_vary_headers(response, ("HX-Request",))
        return response

    @staticmethod
    def sort(table: Table, requested: str | None) -> None:
        """Sort by `requested` when it names an orderable column; else keep the default."""
        if not requested:
            return
        name = requested.removeprefix("-")
        if name in table.columns and table.columns[name].orderable:
            table.order_by = requested

    def paginate(self, table: Table, number: int, per_page: int) -> None:
        """One page of the table's rows; a number past the end shows the last page."""
        ordered = table.data.data  # the filtered queryset, in the table's order
        table.paginator = RememberedCountPaginator(ordered, per_page)
        number = min(max(number, 1), table.paginator.num_pages)
        table.page = table.paginator.page(number)
        offset = (number - 1) * per_page
        table.page_records = self.page_records(ordered, offset, per_page)
        table.page.object_list = BoundRows(table.page_records, table)
