"""What the webhook receiver (conftest.py) records, and rule helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from snapshots.models import AlertRule, Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200


def make_rule(kind: str, *, threshold: float = 0, webhook_url: str = "", **kw) -> AlertRule:
    rule = AlertRule.objects.create(
        name=kw.pop("name", f"{kind} rule"), kind=kind, threshold=threshold, **kw
    )
    if webhook_url:
        hook = Webhook.objects.create(name=f"hook {rule.id}", url=webhook_url, secret="s3cret")
        rule.webhooks.add(hook)
    return rule
