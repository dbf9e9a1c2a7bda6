"""The bulk forms: delete, force delete and reset status of many snapshots in one request.

Each snapshot goes through its single action (same checks, same audit event); the result
says per snapshot what happened, in the terms of the audit log's outcomes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from snapshots import selectors
from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.models import Operation
from snapshots.permissions import Action
from snapshots.services import idempotency
from snapshots.services.snapshot_delete import snapshot_delete, snapshot_force_delete
from snapshots.services.snapshot_repair import snapshot_reset_status
from snapshots.services.snapshots import ActionRefused, ActionResult, Attempt, Caller, admit

# How the summary names each outcome that is not a success.
NOT_DONE_LABELS = (
    (Outcome.REFUSED, "refused"),
    (Outcome.DENIED, "skipped"),
    (Outcome.UNKNOWN, "unknown, being checked"),
    (Outcome.FAILED, "failed"),
)


@dataclass
class ItemResult:
    snapshot_id: str
    name: str
    outcome: str
    message: str = ""


@dataclass
class BulkResult:
    verb: str  # "deleted", "force-deleted", "reset to error"
    items: list[ItemResult] = field(default_factory=list)
    repeated: bool = False

    @property
    def done(self) -> list[ItemResult]:
        return [i for i in self.items if i.outcome == Outcome.SUCCESS]

    @property
    def not_done(self) -> list[ItemResult]:
        return [i for i in self.items if i.outcome != Outcome.SUCCESS]

    def summary(self) -> str:
        """'8 of 10 deleted; 2 refused: a (why), b (why)'."""
        text = f"{len(self.done)} of {len(self.items)} {self.verb}"
        for outcome, label in NOT_DONE_LABELS:
            group = [i for i in self.items if i.outcome == outcome]
            if group:
                shown = ", ".join(f"{i.name or i.snapshot_id} ({i.message})" for i in group)
                text += f"; {len(group)} {label}: {shown}"
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        return {"verb": self.verb, "items": [dataclasses.asdict(i) for i in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BulkResult:
        items = [ItemResult(**i) for i in data.get("items", [])]
        return cls(verb=data["verb"], items=items, repeated=True)


def _run(
    one: Callable[..., ActionResult],
    action: str,
    permission: Action,
    verb: str,
    caller: Caller,
    snapshot_ids: list[str],
    options: dict[str, Any] | None = None,
) -> BulkResult:
    """`one` on each snapshot (with `options`), as one request with one idempotency key."""
    options = options or {}
    snapshot_ids = list(dict.fromkeys(snapshot_ids))  # unique, in the order given
    attempt = Attempt(
        caller,
        action,
        "",
        subject=hashlib.sha256(" ".join(sorted(snapshot_ids)).encode()).hexdigest(),
        parameters={"snapshot_ids": snapshot_ids, **options},
    )
    each = dataclasses.replace(caller, key="")  # the key is the whole request's
    if admit(attempt, permission) is not None:  # the form was sent before: its first result
        return earlier_result(caller.key) or BulkResult(verb=verb, repeated=True)
    result = BulkResult(verb=verb)
    names = dict(
        selectors.visible_snapshots(caller.scope, include_deleted=True)
        .filter(pk__in=snapshot_ids)
        .values_list("id", "name")
    )
    down = False
    for sid in snapshot_ids:
        name = names.get(sid, "")
        if down:
            result.items.append(
                ItemResult(sid, name, Outcome.FAILED, "not sent: the cloud is unreachable")
            )
            continue
        outcome, message = Outcome.SUCCESS, ""
        try:
            one(caller=each, snapshot_id=sid, **options)
        except Http404:
            outcome, message = Outcome.DENIED, "not found"
        except (PermissionDenied, ActionRefused) as exc:
            outcome, message = Outcome.DENIED, str(exc)
        except errors.OutcomeUnknown as exc:
            outcome, message = Outcome.UNKNOWN, exc.user_message()
            down = True
        except errors.Unavailable as exc:
            outcome, message = Outcome.FAILED, exc.user_message()
            down = True
        except errors.NotAuthenticated:
            raise
        except errors.CloudError as exc:
            outcome, message = Outcome.REFUSED, exc.user_message()
        result.items.append(ItemResult(sid, name, outcome, message))
    if caller.key:
        idempotency.finish(key=caller.key, result=result.as_dict())
    return result


def earlier_result(key: str) -> BulkResult | None:
    op = Operation.objects.filter(pk=key).first()
    if op is None or not op.result:
        return None
    return BulkResult.from_dict(op.result)


def snapshots_delete(*, caller: Caller, snapshot_ids: list[str]) -> BulkResult:
    return _run(snapshot_delete, "delete_snapshots", Action.DELETE, "deleted", caller, snapshot_ids)


def snapshots_force_delete(*, caller: Caller, snapshot_ids: list[str]) -> BulkResult:
    action, verb = "force_delete_snapshots", "force-deleted"
    return _run(snapshot_force_delete, action, Action.FORCE_DELETE, verb, caller, snapshot_ids)


def snapshots_reset_status(
    *, caller: Caller, snapshot_ids: list[str], status: str, reason: str
) -> BulkResult:
    action, verb = "reset_snapshots_status", f"reset to {status}"
    options = {"status": status, "reason": reason}
    return _run(
        snapshot_reset_status, action, Action.RESET_STATUS, verb, caller, snapshot_ids, options
    )
