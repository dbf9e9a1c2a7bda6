"""The alerts page: admins only, rules and webhooks edited through forms (CSRF, validation,
audit without secrets), and every delivery with its state and error shown, escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from snapshots.models import AlertDelivery, AlertFiring, AlertRule, AuditEvent, Webhook
from snapshots.observability import alert_delivery, alert_engine
from snapshots.tests.factories_audit import make_snapshot
from snapshots.tests.observability.alert_helpers import make_rule

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-secret"


def save_webhook(client, name: str, url: str, secret: str, to: str = "/alerts/webhooks/new/"):
    """Post the webhook form: a new webhook, or the one whose page is `to`."""
    return client.post(to, {"name": name, "url": url, "secret": secret})


def test_only_admins_see_and_change_alerts(login, client):
    assert client.get("/alerts/").status_code == 302  # to sign-in
    rule = make_rule("error", emails="ops@example.org")
    for user in ("demo", "auditor"):
        c = login(user)
        assert c.get("/alerts/").status_code == 403
        assert c.post(f"/alerts/rules/{rule.pk}/delete/").status_code == 403
        assert c.post("/alerts/webhooks/new/", {"name": "x"}).status_code == 403
        c.logout()
    assert AlertRule.objects.filter(pk=rule.pk).exists()
    admin = login("admin")
    page = admin.get("/alerts/")
    assert page.status_code == 200
    assert 'href="/alerts/"' in admin.get("/snapshots/overview/").content.decode()


def test_admin_adds_a_webhook_and_a_rule(login):
    admin = login("admin")
    response = save_webhook(admin, "pager", "https://hooks.example.org/x", SECRET)
    assert response.status_code == 302
    hook = Webhook.objects.get(name="pager")
    assert hook.secret == "a-long-enough-secret"
    response = admin.post(
        "/alerts/rules/new/",
        {
            "name": "stuck long",
            "kind": "stuck",
            "threshold": "45",
            "enabled": "on",
            "emails": "ops@example.org,  oncall@example.org",
            "webhooks": [hook.pk],
            "digest_minutes": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get(name="stuck long")
    assert rule.email_list() == ["ops@example.org", "oncall@example.org"]
    assert list(rule.webhooks.all()) == [hook]
    assert rule.updated_by == "admin"
    actions = list(AuditEvent.objects.values_list("action", "outcome"))
    assert ("alert_webhook_save", "success") in actions
    assert ("alert_rule_save", "success") in actions
    assert not any(
        "a-long-enough-secret" in str(p) for p in AuditEvent.objects.values_list("parameters")
    )

    # editing the webhook with an empty secret keeps the secret
    response = save_webhook(
        admin, "pager", "https://hooks.example.org/y", "", f"/alerts/webhooks/{hook.pk}/"
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.secret) == ("https://hooks.example.org/y", "a-long-enough-secret")
    form_page = admin.get(f"/alerts/webhooks/{hook.pk}/").content.decode()
    assert "a-long-enough-secret" not in form_page


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"kind": "quota", "threshold": "150"}, "between 0 and 100"),
        ({"kind": "stuck", "threshold": "0"}, "more than 0"),
        ({"emails": "not-an-address"}, "valid email"),
        ({"emails": ""}, "at least one e-mail address or webhook"),
    ],
)
def test_rule_form_refuses_what_cannot_work(login, data, field_error):
    admin = login("admin")
    base = {
        "name": "r",
        "kind": "error",
        "threshold": "0",
        "emails": "ops@example.org",
        "digest_minutes": "0",
    }
    response = admin.post("/alerts/rules/new/", {**base, **data})
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not AlertRule.objects.exists()


def test_webhook_form_refuses_other_schemes_and_short_secrets(login):
    admin = login("admin")
    bad = save_webhook(admin, "f", "file:///etc/passwd", SECRET)
    assert bad.status_code == 400
    short = save_webhook(admin, "f", "https://x.example.org/", "short")
    assert short.status_code == 400
    assert not Webhook.objects.exists()


def test_posts_need_the_csrf_token(login, cloud):
    from django.test import Client

    rule = make_rule("error", emails="ops@example.org")
    strict = Client(enforce_csrf_checks=True)
    strict.post("/auth/login/", {"username": "admin", "password": "secret", "domain": "Default"})
    assert strict.post(f"/alerts/rules/{rule.pk}/delete/").status_code == 403
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_deliveries_and_failures_are_shown_escaped(login, settings, django_assert_max_num_queries):
    settings.ALERT_MAX_ATTEMPTS = 1
    hook = Webhook.objects.create(name="down", url="http://127.0.0.1:9/", secret="x" * 16)
    rule = make_rule("error", emails="")
    rule.webhooks.add(hook)
    now = timezone.now() + timedelta(seconds=1)
    make_snapshot(status="error", at=now, name="<script>alert(1)</script>")
    alert_engine.evaluate(now)
    for delivery_id in alert_delivery.due(now):
        alert_delivery.send(delivery_id, now)
    delivery = AlertDelivery.objects.get()
    assert delivery.state == "failed"
    admin = login("admin")
    with django_assert_max_num_queries(15):
        page = admin.get("/alerts/")
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "1 failed" in html
    assert 'class="delivery-failed"' in html
    assert "ConnectionError" in html
    assert AlertFiring.objects.filter(resolved_at__isnull=True).count() == 1
