"""Sending alert deliveries: e-mail through Django's mail backend, webhooks as signed JSON.

A delivery is claimed by a conditional UPDATE before it is sent (so two workers never send the
same row), and the claim is a lease: a worker that dies mid-send leaves it due again after
ALERT_SEND_LEASE seconds. A failure is retried with exponential back-off
(ALERT_RETRY_BASE * 2^(attempt-1) seconds) up to ALERT_MAX_ATTEMPTS, then marked failed; the
alerts page shows every attempt's outcome.

Webhook requests carry `X-Dashboard-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
bytes under the webhook's secret, and `X-Dashboard-Delivery`, the delivery's key, so a receiver
can verify the sender and drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone

from snapshots.models import AlertDelivery

SIGNATURE_HEADER = "X-Dashboard-Signature"
DELIVERY_HEADER = "X-Dashboard-Delivery"
State = AlertDelivery.State


class DeliveryError(Exception):
    pass


def body_of(delivery: AlertDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _subject(payload: dict) -> str:
    if payload.get("event") == "digest":
        return f"[snapshot dashboard] {payload['rule']}: {len(payload['events'])} events"
    word = "RESOLVED" if payload.get("event") == "resolved" else "FIRING"
    return f"[snapshot dashboard] {word} {payload['rule']}: {payload.get('subject_name', '')}"


def _text(payload: dict) -> str:
    if payload.get("event") == "digest":
        lines = [f"Rule {payload['rule']}, {payload['from']} to {payload['to']}:", ""]
        for event in payload["events"]:
            lines.append(f"- {event['event'].upper()}: {event['message']}")
        return "\n".join(lines) + "\n"
    if payload.get("event") == "resolved":
        return f"Resolved at {payload['resolved_at']}: {payload['message']}\n"
    return (
        f"{payload['message']}\n\nRule: {payload['rule']}\nAbout: {payload['subject']}\n"
        f"Since: {payload['started_at']}\n"
    )


def _send_email(delivery: AlertDelivery) -> None:
    try:
        send_mail(
            _subject(delivery.payload),
            _text(delivery.payload),
            settings.ALERT_EMAIL_FROM,
            [delivery.target],
            fail_silently=False,
        )
    except Exception as exc:  # smtplib and socket errors alike
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def _send_webhook(delivery: AlertDelivery) -> None:
    if delivery.webhook is None:
        raise DeliveryError("the webhook was removed")
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(delivery.webhook.secret, body),
        DELIVERY_HEADER: delivery.dedup_key,
        "User-Agent": "snapshot-dashboard-alerts",
    }
    try:
        response = requests.post(
            delivery.target,
            data=body,
            headers=headers,
            timeout=settings.ALERT_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}")


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=settings.ALERT_RETRY_BASE * 2 ** max(0, attempt - 1))


def send(delivery_id: int, now: datetime | None = None) -> str:
    """Claim and send one delivery; returns its state afterwards ("not due" when not claimed)."""
    now = now or timezone.now()
    claimed = AlertDelivery.objects.filter(
        pk=delivery_id,
        state__in=(State.PENDING, State.RETRYING, State.SENDING),
        next_attempt_at__lte=now,
    ).update(
        state=State.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + timedelta(seconds=settings.ALERT_SEND_LEASE),
    )
    if not claimed:
        return "not due"
    delivery = AlertDelivery.objects.select_related("webhook").get(pk=delivery_id)
    try:
        if delivery.channel == AlertDelivery.Channel.EMAIL:
            _send_email(delivery)
        else:
            _send_webhook(delivery)
    except DeliveryError as exc:
        final = delivery.attempts >= settings.ALERT_MAX_ATTEMPTS
        AlertDelivery.objects.filter(pk=delivery_id).update(
            state=State.FAILED if final else State.RETRYING,
            next_attempt_at=now + backoff(delivery.attempts),
            last_error=str(exc)[:500],
        )
        return State.FAILED if final else State.RETRYING
    AlertDelivery.objects.filter(pk=delivery_id).update(
        state=State.SENT, sent_at=timezone.now(), last_error=""
    )
    return State.SENT


def due(now: datetime | None = None) -> list[int]:
    """Deliveries to send now: new ones, retries whose back-off ran out, expired claims."""
    now = now or timezone.now()
    return list(
        AlertDelivery.objects.filter(
            Q(state__in=(State.PENDING, State.RETRYING, State.SENDING)), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:500]
    )
