"""The alerts page (admins): rules, webhooks, firings and every delivery with its outcome.

GET pages read the database only; changes are POSTs (CSRF-checked) and each is an audit event
(never with a webhook's secret).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from snapshots.choices import Outcome
from snapshots.models import AlertDelivery, AlertFiring, AlertRule, Webhook
from snapshots.observability.alert_forms import AlertRuleForm, WebhookForm
from snapshots.services import audit

RECENT = 100


def _admin(request):
    scope = getattr(request, "dashboard_scope", None)
    if scope is None or not scope.is_admin:
        raise PermissionDenied("Only admins manage alerts.")
    return scope


def _audit(request, scope, action: str, name: str, parameters: dict | None = None) -> None:
    audit.record(
        scope=scope,
        action=action,
        outcome=Outcome.SUCCESS,
        target_name=name,
        parameters=parameters or {},
        client_addr=request.META.get("REMOTE_ADDR"),
    )


@require_safe
@login_required
def alerts_page(request):
    _admin(request)
    deliveries = AlertDelivery.objects.select_related("rule", "firing").order_by(
        "-created_at", "-id"
    )[:RECENT]
    context = {
        "rules": AlertRule.objects.prefetch_related("webhooks"),
        "webhooks": Webhook.objects.all(),
        "open_firings": AlertFiring.objects.filter(resolved_at__isnull=True)
        .select_related("rule")
        .order_by("-started_at")[:RECENT],
        "deliveries": deliveries,
        "failed_count": AlertDelivery.objects.filter(state=AlertDelivery.State.FAILED).count(),
    }
    return render(request, "alerts/alerts.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def rule_edit(request, rule_id: int | None = None):
    scope, rule, form = _admin_form(request, AlertRule, AlertRuleForm, rule_id)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = scope.username
        saved.save()
        form.save_m2m()
        _audit(
            request,
            scope,
            "alert_rule_save",
            saved.name,
            {
                "kind": saved.kind,
                "threshold": saved.threshold,
                "enabled": saved.enabled,
                "emails": saved.email_list(),
                "webhooks": [w.name for w in saved.webhooks.all()],
                "digest_minutes": saved.digest_minutes,
            },
        )
        return _done(request, "Rule", saved.name, "saved")
    return _form_page(request, "alerts/rule_form.html", {"form": form, "rule": rule})


@require_POST
@login_required
def rule_delete(request, rule_id: int):
    return _delete(request, AlertRule, rule_id, action="alert_rule_delete", noun="Rule")


@require_http_methods(["GET", "POST"])
@login_required
def webhook_edit(request, webhook_id: int | None = None):
    scope, hook, form = _admin_form(request, Webhook, WebhookForm, webhook_id)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        _audit(request, scope, "alert_webhook_save", saved.name, {"url": saved.url})
        return _done(request, "Webhook", saved.name, "saved")
    return _form_page(request, "alerts/webhook_form.html", {"form": form, "hook": hook})


def _admin_form(request, model: type[AlertRule | Webhook], form_class, pk: int | None):
    """An admin's form for a new rule or webhook (no pk) or an existing one, bound on POST."""
    scope = _admin(request)
    instance = get_object_or_404(model, pk=pk) if pk else None
    return scope, instance, form_class(request.POST or None, instance=instance)


def _form_page(request, template: str, context: dict):
    """The form again: 400 after an invalid POST, 200 on GET."""
    return render(request, template, context, status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def webhook_delete(request, webhook_id: int):
    return _delete(request, Webhook, webhook_id, action="alert_webhook_delete", noun="Webhook")


def _delete(request, model: type[AlertRule | Webhook], pk: int, *, action: str, noun: str):
    """Delete one rule or webhook (admins), audited."""
    scope = _admin(request)
    obj = get_object_or_404(model, pk=pk)
    name = obj.name
    obj.delete()
    _audit(request, scope, action, name)
    return _done(request, noun, name, "deleted")


def _done(request, noun: str, name: str, verb: str):
    """Back to the alerts page, saying what became of the rule or webhook."""
    messages.success(request, f"{noun} “{name}” {verb}.")
    return redirect("alerts:page")
