"""What each alert rule watches: the subjects that breach it now, read from the mirror.

One function per kind, each a bounded query (at most MAX_SUBJECTS subjects per rule and tick:
an alert storm names the first ones, it does not flood the receivers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from snapshots.choices import FAILED, TRANSITIONAL
from snapshots.models import AlertRule, CloudState, ProjectQuota, Snapshot
from snapshots.services import audit

MAX_SUBJECTS = 200
CLOUD = "cloud"
AUDIT_CHAIN = "audit-chain"
AUDIT_VERDICT_KEY = "alerts:audit-chain-verdict"


@dataclass(frozen=True)
class Breach:
    subject: str
    name: str
    message: str


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _snapshot_breaches(rows, says: Callable[[Snapshot], str]) -> list[Breach]:
    """The first MAX_SUBJECTS of `rows`, oldest status first, each named with its project."""
    rows = rows.order_by("status_since", "id").only(
        "id", "name", "project_id", "project_name", "status", "status_since"
    )[:MAX_SUBJECTS]
    return [
        Breach(
            row.id,
            row.name or row.id,
            f"Snapshot {row.name or row.id} (project {row.project_name or row.project_id}) "
            f"{says(row)}",
        )
        for row in rows
    ]


def stuck(rule: AlertRule, now: datetime) -> list[Breach]:
    cutoff = now - timedelta(minutes=rule.threshold)
    return _snapshot_breaches(
        Snapshot.objects.live().filter(status__in=TRANSITIONAL, status_since__lte=cutoff),
        lambda row: (
            f"has been {row.status} since {_when(row.status_since)}, longer than "
            f"{rule.threshold:g} minutes."
        ),
    )


def error(rule: AlertRule, now: datetime) -> list[Breach]:
    """Snapshots that entered error or error_deleting since the rule was made."""
    return _snapshot_breaches(
        Snapshot.objects.live().filter(status__in=FAILED, status_since__gte=rule.created_at),
        lambda row: f"entered {row.status} at {_when(row.status_since)}.",
    )


def quota(rule: AlertRule, now: datetime) -> list[Breach]:
    rows = ProjectQuota.objects.filter(snapshots_limit__gt=0).order_by("project_id")
    breaches = []
    for row in rows:
        used = 100.0 * row.snapshots_used / row.snapshots_limit
        if used >= rule.threshold:
            breaches.append(
                Breach(
                    row.project_id,
                    row.project_id,
                    f"Project {row.project_id} uses {row.snapshots_used} of its "
                    f"{row.snapshots_limit} snapshots ({used:.0f} %, threshold "
                    f"{rule.threshold:g} %).",
                )
            )
        if len(breaches) >= MAX_SUBJECTS:
            break
    return breaches


def cloud_down(rule: AlertRule, now: datetime) -> list[Breach]:
    """The cloud unreachable now; how long it must last is the firing's hold (hold_minutes)."""
    state = CloudState.objects.filter(id=1).first()
    if state is None or state.reachable:
        return []
    return [Breach(CLOUD, "the cloud", f"The cloud is unreachable: {state.last_error[:300]}")]


def audit_chain(rule: AlertRule, now: datetime) -> list[Breach]:
    """Walking the whole chain costs time in proportion to the audit log, so its verdict is
    kept for ALERT_AUDIT_CHAIN_INTERVAL seconds (shared by the workers through the cache)."""
    verdict = cache.get(AUDIT_VERDICT_KEY)
    if verdict is None:
        report = audit.verify_chain()
        verdict = (
            ""
            if report.ok
            else (f"The audit chain is broken at event #{report.broken_id}: {report.reason}.")
        )
        if settings.ALERT_AUDIT_CHAIN_INTERVAL > 0:
            cache.set(AUDIT_VERDICT_KEY, verdict, settings.ALERT_AUDIT_CHAIN_INTERVAL)
    return [Breach(AUDIT_CHAIN, "the audit chain", verdict)] if verdict else []


CHECKS: dict[str, Callable[[AlertRule, datetime], list[Breach]]] = {
    AlertRule.Kind.STUCK: stuck,
    AlertRule.Kind.ERROR: error,
    AlertRule.Kind.QUOTA: quota,
    AlertRule.Kind.CLOUD_DOWN: cloud_down,
    AlertRule.Kind.AUDIT_CHAIN: audit_chain,
}


def hold_minutes(rule: AlertRule) -> float:
    """How long a breach must last before it is notified (the cloud rule's N minutes)."""
    return rule.threshold if rule.kind == AlertRule.Kind.CLOUD_DOWN else 0.0


def breaches(rule: AlertRule, now: datetime) -> dict[str, Breach]:
    return {b.subject: b for b in CHECKS[rule.kind](rule, now)}
