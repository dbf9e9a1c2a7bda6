"""The audit log and the status history: filtered, sorted, paged, exported. Read-only (GET only).

One pipeline per page, as the snapshot list has: scope the rows (selectors/audit.py), filter,
then either export (`?_export=csv|json|xlsx`, every filtered row in the current order), return
the table partial to a non-boosted htmx request, or render the page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.export import ExportMixin

from snapshots.filters_audit import AuditEventFilter, StatusChangeFilter
from snapshots.permissions import Action, can, require
from snapshots.selectors.audit import project_names, visible_changes, visible_events
from snapshots.tables_audit import AuditEventTable, SafeTableExport, StatusChangeTable

EXPORT_FORMATS = ("csv", "json", "xlsx")


def per_page(request) -> int:
    """`?per_page=` capped at the largest allowed size (unbounded would be a denial of service)."""
    sizes = tuple(settings.PAGE_SIZES)
    try:
        wanted = int(request.GET.get("per_page", sizes[0]))
    except ValueError:
        return sizes[0]
    return min(max(wanted, 1), max(sizes))


class _HistoryView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    http_method_names = ["get", "head", "options"]
    export_class = SafeTableExport
    export_formats = EXPORT_FORMATS
    partial_template = ""
    title = ""
    results_id = ""

    def get(self, request, *args, **kwargs):
        require(request.scope, Action.VIEW)
        self.names = project_names(request.scope)
        response = super().get(request, *args, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["scope"] = self.request.scope
        return kwargs

    def get_table_kwargs(self):
        return {"project_names": self.names}

    def get_table(self, **kwargs):
        """Ordering from the request; paging with our capped size (RequestConfig would take
        `?per_page=` as it is). Exports take every row, so they are not paged."""
        table = self.get_table_class()(data=self.get_table_data(), **kwargs)
        RequestConfig(self.request, paginate=False).configure(table)
        if self.export_trigger_param in self.request.GET:
            return table
        try:
            page = int(self.request.GET.get("page", 1))
        except ValueError:
            page = 1
        try:
            table.paginate(page=page, per_page=per_page(self.request))
        except EmptyPage:
            table.paginate(page=table.paginator.num_pages, per_page=per_page(self.request))
        return table

    def get_template_names(self):
        htmx = getattr(self.request, "htmx", None)
        if htmx and not htmx.boosted:
            return [self.partial_template]
        return [self.template_name]

    def get_export_filename(self, export_format):
        return f"{self.export_name}-{timezone.now():%Y%m%d-%H%M%S}.{export_format}"

    def create_export(self, export_format):
        if not can(self.request.scope, Action.EXPORT):
            raise PermissionDenied("Your role does not allow exports")
        return super().create_export(export_format)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.title,
            results_id=self.results_id,
            export_formats=EXPORT_FORMATS,
            page_sizes=settings.PAGE_SIZES,
            per_page=per_page(self.request),
            sees_all=self.request.scope.readable_projects is None,
        )
        return context


class AuditLogView(_HistoryView):
    """Every audit event the user may read, newest first."""

    filterset_class = AuditEventFilter
    table_class = AuditEventTable
    template_name = "audit/audit_log.html"
    partial_template = "audit/partials/audit_results.html"
    export_name = "audit-events"
    title = "Audit log"
    results_id = "audit-results"

    def get_queryset(self):
        return visible_events(self.request.scope)


class StatusHistoryView(_HistoryView):
    """Every status change the user may read, with how long each status lasted."""

    filterset_class = StatusChangeFilter
    table_class = StatusChangeTable
    template_name = "audit/history.html"
    partial_template = "audit/partials/history_results.html"
    export_name = "status-history"
    title = "Status history"
    results_id = "history-results"

    def get_queryset(self):
        return visible_changes(self.request.scope)


audit_log = AuditLogView.as_view()
status_history = StatusHistoryView.as_view()
