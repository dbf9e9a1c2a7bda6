"""Alerts: rules admins edit, firings the evaluator opens and resolves, deliveries it sends.

A firing is keyed by rule + subject (a snapshot id, a project id, "cloud", "audit-chain"); at
most one is open per key (a partial unique constraint), so two workers evaluating the same tick
cannot open it twice, and its notification is claimed by a conditional update of `fired_at`
(or `resolved_at`), so it is sent once. Every delivery is a row, unique by `dedup_key`, with its
attempts and last error: the alerts page shows them all.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Webhook(models.Model):
    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    # The receiver checks the X-Dashboard-Signature header (HMAC-SHA256 of the body) with it.
    secret = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        STUCK = "stuck", "A snapshot stuck longer than N minutes"
        ERROR = "error", "A snapshot entering error"
        QUOTA = "quota", "A project over X % of its snapshot quota"
        CLOUD_DOWN = "cloud_down", "The cloud unreachable for N minutes"
        AUDIT_CHAIN = "audit_chain", "The audit chain broken"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Minutes for stuck and cloud_down, a percentage for quota; unused by the others.
    threshold = models.FloatField(default=0)
    enabled = models.BooleanField(default=True)
    # Comma-separated e-mail addresses; and webhooks.
    emails = models.CharField(max_length=1000, blank=True)
    webhooks = models.ManyToManyField(Webhook, blank=True, related_name="rules")
    # 0: a message per firing and per resolve; N: one digest message every N minutes.
    digest_minutes = models.PositiveIntegerField(default=0)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def email_list(self) -> list[str]:
        return [e.strip() for e in self.emails.split(",") if e.strip()]


class AlertFiring(models.Model):
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    subject = models.CharField(max_length=128)
    subject_name = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    # When the condition was first seen, when it was notified (it held long enough), and when
    # it stopped holding. A firing resolved before it fired was never notified.
    started_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_firing",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject}"


class AlertDelivery(models.Model):
    class Kind(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"
        DIGEST = "digest", "Digest"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    dedup_key = models.CharField(max_length=255, unique=True)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    firing = models.ForeignKey(
        AlertFiring, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL)
    target = models.CharField(max_length=500)
    payload = models.JSONField(default=dict)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} {self.target}: {self.state}"
