"""The audit log, status history and overview."""

from django.urls import path

from snapshots.views import audit, overview

urlpatterns = [
    path("audit/", audit.audit_log, name="audit"),
    path("history/", audit.status_history, name="history"),
    path("overview/", overview.overview, name="overview"),
]
