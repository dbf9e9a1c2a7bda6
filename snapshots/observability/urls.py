"""The alerts page and its forms (admins)."""

from django.urls import path

from snapshots.observability import alert_views

app_name = "alerts"

urlpatterns = [
    path("", alert_views.alerts_page, name="page"),
    path("rules/new/", alert_views.rule_edit, name="rule-new"),
    path("rules/<int:rule_id>/", alert_views.rule_edit, name="rule-edit"),
    path("rules/<int:rule_id>/delete/", alert_views.rule_delete, name="rule-delete"),
    path("webhooks/new/", alert_views.webhook_edit, name="webhook-new"),
    path("webhooks/<int:webhook_id>/", alert_views.webhook_edit, name="webhook-edit"),
    path("webhooks/<int:webhook_id>/delete/", alert_views.webhook_delete, name="webhook-delete"),
]
