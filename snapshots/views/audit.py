"""The audit log and the status history: filtered, sorted, paged, exported. Read-only (GET only).

Both are `ListPage`s (views/lists.py): the rows come from selectors/audit.py, already limited to
what the user may read. Their filters are strict: an invalid value lists nothing and says why.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin

from snapshots.filters import AuditEventFilter, StatusChangeFilter
from snapshots.selectors.audit import visible_changes, visible_events
from snapshots.tables import AuditEventTable, StatusChangeTable
from snapshots.views.lists import ListPage


class AuditListPage(LoginRequiredMixin, ListPage):
    """A page of audit/log_page.html whose results region (what htmx swaps) has `results_id`."""

    partial_template = "audit/partials/results.html"
    strict_filters = True
    results_id = ""

    def get_extra_context(self, table, filterset) -> dict:
        return {"results_id": self.results_id}


class AuditLogView(AuditListPage):
    """Every audit event the user may read, newest first."""

    filterset_class = AuditEventFilter
    table_class = AuditEventTable
    template_name = "audit/audit_log.html"
    export_name = "audit-events"
    title = "Audit log"
    results_id = "audit-results"

    def get_queryset(self):
        return visible_events(self.request.dashboard_scope)


class StatusHistoryView(AuditListPage):
    """Every status change the user may read, with how long each status lasted."""

    filterset_class = StatusChangeFilter
    table_class = StatusChangeTable
    template_name = "audit/history.html"
    export_name = "status-history"
    title = "Status history"
    results_id = "history-results"

    def get_queryset(self):
        return visible_changes(self.request.dashboard_scope)


audit_log = AuditLogView.as_view()
status_history = StatusHistoryView.as_view()
