"""The alert evaluator: opens, fires and resolves firings, and queues their deliveries.

A tick observes each enabled rule (which subjects breach it, which firings are open) and then
applies what it saw. Applying is safe when two workers run the same tick: a firing is created
under a unique constraint on (rule, subject) among open firings, and the notification of a
firing or of its resolution is claimed by a conditional UPDATE (`fired_at IS NULL`,
`resolved_at IS NULL`): only the worker whose update changed the row queues the deliveries, and
deliveries are unique by their dedup key. A digest rule queues one message per period instead,
claimed the same way on `last_digest_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from snapshots.models import AlertDelivery, AlertFiring, AlertRule
from snapshots.observability import alert_rules
from snapshots.observability.alert_rules import Breach


@dataclass
class Observation:
    rule: AlertRule
    now: datetime
    breaches: dict[str, Breach]
    # subject -> (firing id, started_at, fired_at) of the firings open when observed
    open: dict[str, tuple[int, datetime, datetime | None]]


@dataclass
class TickResult:
    opened: int = 0
    fired: int = 0
    resolved: int = 0
    deliveries: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.opened} opened, {self.fired} fired, {self.resolved} resolved, "
            f"{len(self.deliveries)} deliveries queued"
        )


def observe(rule: AlertRule, now: datetime) -> Observation:
    open_rows = AlertFiring.objects.filter(rule=rule, resolved_at__isnull=True).values_list(
        "subject", "id", "started_at", "fired_at"
    )
    return Observation(
        rule=rule,
        now=now,
        breaches=alert_rules.breaches(rule, now),
        open={subject: (fid, started, fired) for subject, fid, started, fired in open_rows},
    )


def _payload(rule: AlertRule, firing: AlertFiring, event: str) -> dict:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "event": event,
        "rule": rule.name,
        "kind": rule.kind,
        "subject": firing.subject,
        "subject_name": firing.subject_name,
        "message": firing.message,
        "started_at": iso(firing.started_at),
        "fired_at": iso(firing.fired_at),
        "resolved_at": iso(firing.resolved_at),
    }


def _targets(rule: AlertRule) -> list[tuple[str, str, int | None]]:
    """(channel, target, webhook id) for every receiver of the rule."""
    targets: list[tuple[str, str, int | None]] = [
        (AlertDelivery.Channel.EMAIL, address, None) for address in rule.email_list()
    ]
    targets += [(AlertDelivery.Channel.WEBHOOK, w.url, w.id) for w in rule.webhooks.all()]
    return targets


def _queue(
    rule: AlertRule, *, key: str, kind: str, payload: dict, firing: AlertFiring | None, now
) -> list[int]:
    made = []
    for channel, target, webhook_id in _targets(rule):
        delivery, created = AlertDelivery.objects.get_or_create(
            dedup_key=f"{key}:{kind}:{channel}:{target}"[:255],
            defaults={
                "rule": rule,
                "firing": firing,
                "kind": kind,
                "channel": channel,
                "target": target,
                "webhook_id": webhook_id,
                "payload": payload,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if created:
            made.append(delivery.id)
    return made


def _notify(rule: AlertRule, firing: AlertFiring, event: str, now: datetime) -> list[int]:
    """A firing's own message (the rule sends no digest) that it fired or resolved."""
    return _queue(
        rule,
        key=f"firing-{firing.id}",
        kind=AlertDelivery.Kind(event),
        payload=_payload(rule, firing, event),
        firing=firing,
        now=now,
    )


def _open(rule: AlertRule, breach: Breach, now: datetime) -> tuple[int, datetime, datetime | None]:
    try:
        with transaction.atomic():
            firing = AlertFiring.objects.create(
                rule=rule,
                subject=breach.subject,
                subject_name=breach.name[:255],
                message=breach.message,
                started_at=now,
            )
        return firing.id, firing.started_at, None
    except IntegrityError:  # another worker opened it in the same tick
        existing = AlertFiring.objects.get(
            rule=rule, subject=breach.subject, resolved_at__isnull=True
        )
        return existing.id, existing.started_at, existing.fired_at


def apply(observation: Observation, result: TickResult | None = None) -> TickResult:
    result = result or TickResult()
    rule, now = observation.rule, observation.now
    hold = timedelta(minutes=alert_rules.hold_minutes(rule))
    for subject, breach in observation.breaches.items():
        known = observation.open.get(subject)
        if known is None:
            known = _open(rule, breach, now)
            result.opened += 1
        firing_id, started_at, fired_at = known
        if fired_at is not None or now - started_at < hold:
            continue
        claimed = AlertFiring.objects.filter(
            pk=firing_id, fired_at__isnull=True, resolved_at__isnull=True
        ).update(fired_at=now)
        if not claimed:
            continue
        result.fired += 1
        if not rule.digest_minutes:
            firing = AlertFiring.objects.get(pk=firing_id)
            result.deliveries += _notify(rule, firing, "firing", now)
    for subject, (firing_id, _started, _fired) in observation.open.items():
        if subject in observation.breaches:
            continue
        claimed = AlertFiring.objects.filter(pk=firing_id, resolved_at__isnull=True).update(
            resolved_at=now
        )
        if not claimed:
            continue
        firing = AlertFiring.objects.get(pk=firing_id)
        if firing.fired_at is None:
            continue  # never notified: nothing to resolve for the receivers
        result.resolved += 1
        if not rule.digest_minutes:
            result.deliveries += _notify(rule, firing, "resolved", now)
    return result


def digest(rule: AlertRule, now: datetime, result: TickResult | None = None) -> TickResult:
    """One message for everything that fired or resolved during the rule's period."""
    result = result or TickResult()
    since = rule.last_digest_at or rule.created_at
    if not rule.digest_minutes or now - since < timedelta(minutes=rule.digest_minutes):
        return result
    last = (
        Q(last_digest_at=rule.last_digest_at)
        if rule.last_digest_at
        else Q(last_digest_at__isnull=True)
    )
    if not AlertRule.objects.filter(last, pk=rule.pk).update(last_digest_at=now):
        return result  # another worker sent this period's digest
    rule.last_digest_at = now
    events = []
    fired = AlertFiring.objects.filter(rule=rule, fired_at__gt=since, fired_at__lte=now)
    for firing in fired.order_by("fired_at", "id"):
        events.append(_payload(rule, firing, "firing"))
    resolved = AlertFiring.objects.filter(
        rule=rule, fired_at__isnull=False, resolved_at__gt=since, resolved_at__lte=now
    )
    for firing in resolved.order_by("resolved_at", "id"):
        events.append(_payload(rule, firing, "resolved"))
    if not events:
        return result
    payload = {
        "event": "digest",
        "rule": rule.name,
        "kind": rule.kind,
        "from": since.isoformat(),
        "to": now.isoformat(),
        "events": events,
    }
    result.deliveries += _queue(
        rule,
        key=f"digest-{rule.id}-{int(now.timestamp())}",
        kind=AlertDelivery.Kind.DIGEST,
        payload=payload,
        firing=None,
        now=now,
    )
    return result


def evaluate(now: datetime | None = None) -> TickResult:
    """One tick over every enabled rule. Deliveries are sent by `delivery.send_due()`."""
    now = now or timezone.now()
    result = TickResult()
    for rule in AlertRule.objects.filter(enabled=True).prefetch_related("webhooks"):
        apply(observe(rule, now), result)
        digest(rule, now, result)
    return result
