"""Finding out what an action did when Cinder's answer never came (the worker's side).

An action whose outcome is unknown (services/snapshots.py `call_failed`) leaves an `Operation`
in state `unknown` with what was asked. This service reads the cloud with the service account
and decides:
- a create: the volume's snapshots, looking for one with the name and description asked for,
  made around the time the request went out, and not already claimed by another of the
  dashboard's actions; found means done, and the snapshot goes into the mirror;
- an edit, metadata change, delete or repair: the target as Cinder has it now, compared with
  what was asked.
When the cloud shows the change, it was done; when it still does not after GIVE_UP_AFTER, it was
not. Either way a second audit event of the same action records the final outcome, naming the
first (`reconciles`), and the operation's state says it to the person (the result page, and a
resend of the same form).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.cloud.dto import SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import Operation, Snapshot
from snapshots.services import audit, idempotency, mirror, queue
from snapshots.services.snapshots import TRACK_TASK

log = logging.getLogger(__name__)

# A request that had not shown in the cloud this long after it was sent never will.
GIVE_UP_AFTER = timedelta(minutes=2)
# How far Cinder's clock may be behind ours when matching a create by its time.
CLOCK_SLACK = timedelta(seconds=30)
GONE_OR_GOING = ("deleting", "deleted", "error_deleting")


@dataclasses.dataclass(frozen=True)
class Finding:
    """What the cloud shows: done (True), not done (False) or not yet clear (None)."""

    done: bool | None
    seen: SnapshotData | None = None
    message: str = ""


def _current(gateway: Gateway, snapshot_id: str) -> SnapshotData | None:
    try:
        return gateway.get_snapshot(snapshot_id)
    except errors.NotFound:
        return None


def _find_create(gateway: Gateway, request: dict[str, Any]) -> Finding:
    sent_at = datetime.fromisoformat(request["sent_at"])
    page = gateway.list_snapshots(all_projects=True, volume_id=request["volume_id"], limit=1000)
    candidates = [
        item
        for item in page.items
        if item.name == request["name"]
        and item.description == request["description"]
        and sent_at - CLOCK_SLACK <= item.created_at <= sent_at + GIVE_UP_AFTER
    ]
    claimed = set(
        Operation.objects.filter(target_id__in=[c.id for c in candidates]).values_list(
            "target_id", flat=True
        )
    )
    for item in sorted(candidates, key=lambda c: c.created_at):
        if item.id not in claimed:
            return Finding(True, item, f"Cinder made snapshot {item.id}.")
    return Finding(None)


def _matches(op: Operation, seen: SnapshotData | None) -> Finding:
    request = op.request
    if op.action in ("delete_snapshot", "force_delete_snapshot"):
        if seen is None or seen.status in GONE_OR_GOING:
            return Finding(True, seen, "Cinder is deleting it or has deleted it.")
        return Finding(None, seen)
    if seen is None:
        return Finding(False, None, "The snapshot no longer exists.")
    if op.action == "update_snapshot":
        wanted = request.get("wanted", {})
        done = all(getattr(seen, k) == v for k, v in wanted.items())
    elif op.action == "update_snapshot_metadata":
        done = all(seen.metadata.get(k) == v for k, v in request.get("set", {}).items()) and all(
            k not in seen.metadata for k in request.get("remove", [])
        )
    elif op.action in ("reset_snapshot_status", "set_snapshot_status"):
        done = seen.status == request.get("status")
    else:
        done = False
    return Finding(True if done else None, seen, "Cinder shows the change." if done else "")


def examine(op: Operation, gateway: Gateway) -> Finding:
    """What the cloud shows about `op` now. Raises the cloud's errors when it cannot say."""
    from snapshots.services import workflow_reconcile

    workflow = workflow_reconcile.examine(op, gateway)
    if workflow is not None:
        return workflow
    if op.action == "create_snapshot":
        return _find_create(gateway, op.request)
    return _matches(op, _current(gateway, op.target_id))


def _record(op: Operation, finding: Finding, *, done: bool) -> None:
    seen = finding.seen
    target_id = seen.id if seen else op.target_id
    with transaction.atomic():
        if seen is not None:
            if op.action == "create_snapshot" and not seen.project_id:
                seen = dataclasses.replace(seen, project_id=op.project_id)
            row, _ = mirror.apply(seen, source=ChangeSource.ACTION, if_newer=True)
            if row.is_transitional:
                queue.enqueue(TRACK_TASK, snapshot_id=row.id)
        elif done and op.target_id:  # deleted meanwhile
            mirror.mark_gone(op.target_id, source=ChangeSource.ACTION)
        target = Snapshot.objects.filter(pk=target_id).first() if target_id else None
        message = finding.message or (
            "Reconciled: Cinder did it."
            if done
            else "Reconciled: Cinder did not do it; nothing was changed."
        )
        audit.record(
            scope=None,
            action=op.action,
            outcome=Outcome.SUCCESS if done else Outcome.FAILED,
            target_id=target_id or "",
            target_name=target.name if target else "",
            project_id=op.project_id,
            parameters={"reconciles": op.event_id},
            message=message,
        )
        idempotency.settle(key=op.key, done=done, target_id=target_id or "", message=message)


def reconcile_operation(*, key: str, gateway: Gateway, now: datetime | None = None) -> str:
    """Settle one unknown operation if the cloud can tell. Returns its state afterwards
    ("unknown" when it is too early to say: the caller asks again later)."""
    op = Operation.objects.filter(pk=key).first()
    if op is None or op.state != Operation.UNKNOWN:
        return op.state if op else "gone"
    now = now or timezone.now()
    finding = examine(op, gateway)
    if finding.done is None and now - op.created_at < GIVE_UP_AFTER:
        return Operation.UNKNOWN
    done = bool(finding.done)
    _record(op, finding, done=done)
    return Operation.SUCCEEDED if done else Operation.NOT_DONE


def unsettled_keys(limit: int = 100) -> list[str]:
    """Operations still unknown, oldest first: the beat picks up any whose task was lost."""
    return list(
        Operation.objects.filter(state=Operation.UNKNOWN)
        .order_by("created_at")
        .values_list("key", flat=True)[:limit]
    )
