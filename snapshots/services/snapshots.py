"""The user actions on snapshots: create, edit, metadata, delete, and the admin repairs.

Every function here follows the same order, because each step protects the next:
1. find the snapshot the way the user may see it (404 for another project's);
2. check the permission for that object on the server (403 before anything reaches Cinder);
3. claim the form's idempotency key (a repeated submit returns the first result);
4. refuse locally what Cinder would refuse anyway (a clear reason, no pointless call);
5. call Cinder through the user's gateway, so Cinder's policy is the last word;
6. store Cinder's answer in the mirror, write the audit event, and ask the worker to track
   the snapshot while it is in a transitional status.
Every attempt leaves one audit event with its outcome, Cinder's message and request id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from snapshots import selectors
from snapshots.choices import (
    DELETABLE,
    RESETTABLE,
    SET_STATUS_TRANSITIONS,
    ChangeSource,
    Outcome,
    Status,
)
from snapshots.cloud import errors
from snapshots.cloud.dto import SnapshotData
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot
from snapshots.permissions import Action, Scope, require
from snapshots.services import audit, idempotency, mirror, queue

TRACK_TASK = "snapshots.tasks.track"


class ActionRefused(Exception):
    """The dashboard refuses before calling Cinder, with a reason a person can act on."""


# --- results of bulk actions ------------------------------------------------------------------
DONE = "done"
REFUSED = "refused"  # Cinder said no
SKIPPED = "skipped"  # the dashboard did not send it (status, permission, not found)
FAILED = "failed"  # the cloud did not answer


@dataclass
class ItemResult:
    snapshot_id: str
    name: str
    outcome: str
    message: str = ""


@dataclass
class BulkResult:
    verb: str  # "deleted", "force-deleted", "reset"
    items: list[ItemResult] = field(default_factory=list)

    @property
    def done(self) -> list[ItemResult]:
        return [i for i in self.items if i.outcome == DONE]

    @property
    def not_done(self) -> list[ItemResult]:
        return [i for i in self.items if i.outcome != DONE]

    def summary(self) -> str:
        """'8 of 10 deleted; 2 refused: a (why), b (why)'."""
        text = f"{len(self.done)} of {len(self.items)} {self.verb}"
        for outcome, label in ((REFUSED, "refused"), (SKIPPED, "skipped"), (FAILED, "failed")):
            group = [i for i in self.items if i.outcome == outcome]
            if group:
                shown = ", ".join(f"{i.name or i.snapshot_id} ({i.message})" for i in group)
                text += f"; {len(group)} {label}: {shown}"
        return text + "."

    def as_dict(self) -> dict[str, Any]:
        return {"verb": self.verb, "items": [dataclasses.asdict(i) for i in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BulkResult:
        return cls(verb=data["verb"], items=[ItemResult(**i) for i in data.get("items", [])])


# --- shared steps ---------------------------------------------------------------------------
def _record(
    *,
    scope: Scope,
    action: str,
    outcome: str,
    project_id: str,
    snapshot_id: str = "",
    name: str = "",
    parameters: dict[str, Any] | None = None,
    error: errors.CloudError | None = None,
    message: str = "",
    client_addr: str | None,
) -> None:
    audit.record(
        scope=scope,
        action=action,
        outcome=outcome,
        target_id=snapshot_id,
        target_name=name,
        project_id=project_id,
        parameters=parameters,
        error=error,
        message=message,
        client_addr=client_addr,
    )


def _load(scope: Scope, snapshot_id: str) -> Snapshot:
    return selectors.get_snapshot(scope, snapshot_id)


def _check(
    scope: Scope,
    permission: Action,
    *,
    action: str,
    project_id: str | None,
    snapshot: Snapshot | None = None,
    parameters: dict[str, Any] | None = None,
    client_addr: str | None,
) -> None:
    """permissions.require, with the refusal written to the audit log."""
    try:
        require(scope, permission, project_id)
    except PermissionDenied as exc:
        _record(
            scope=scope,
            action=action,
            outcome=Outcome.DENIED,
            project_id=project_id or scope.project_id,
            snapshot_id=snapshot.id if snapshot else "",
            name=snapshot.name if snapshot else "",
            parameters=parameters,
            message=str(exc),
            client_addr=client_addr,
        )
        raise


def _refuse(
    scope: Scope,
    snapshot: Snapshot,
    *,
    action: str,
    reason: str,
    parameters: dict[str, Any] | None,
    client_addr: str | None,
    key: str = "",
) -> ActionRefused:
    if key:
        idempotency.release(key=key)
    _record(
        scope=scope,
        action=action,
        outcome=Outcome.DENIED,
        project_id=snapshot.project_id,
        snapshot_id=snapshot.id,
        name=snapshot.name,
        parameters=parameters,
        message=reason,
        client_addr=client_addr,
    )
    return ActionRefused(reason)


def _repeat(scope: Scope, key: str, action: str) -> Snapshot | None:
    """The earlier result for this key, or None when this is the first submit."""
    if not key:
        return None
    earlier = idempotency.claim(key=key, actor_id=scope.user_id, action=action)
    if earlier is None:
        return None
    return Snapshot.objects.filter(pk=earlier.target_id).first()


def _track(row: Snapshot | None, snapshot_id: str) -> None:
    if row is None or row.is_transitional:
        queue.enqueue(TRACK_TASK, snapshot_id=snapshot_id)


def _read(gateway: Gateway, snapshot_id: str) -> SnapshotData | errors.CloudError | None:
    """Cinder's view of the snapshot after a call that returns no body: its data, None when it
    is gone, or the error when Cinder could not say (the worker will find out)."""
    try:
        return gateway.get_snapshot(snapshot_id)
    except errors.NotFound:
        return None
    except errors.NotAuthenticated:
        raise
    except errors.CloudError as exc:
        return exc


def _store(snapshot_id: str, seen: SnapshotData | errors.CloudError | None) -> Snapshot:
    if isinstance(seen, SnapshotData):
        row, _ = mirror.apply(seen, source=ChangeSource.ACTION)
        _track(row, snapshot_id)
        return row
    if seen is None:
        mirror.mark_gone(snapshot_id, source=ChangeSource.ACTION)
    else:  # the action went through; the worker reads the new state when the cloud answers
        queue.enqueue(TRACK_TASK, snapshot_id=snapshot_id)
    return Snapshot.objects.get(pk=snapshot_id)


def _refresh(gateway: Gateway, snapshot_id: str) -> Snapshot:
    """Re-read the snapshot from Cinder into the mirror (the HTTP call outside any transaction)."""
    seen = _read(gateway, snapshot_id)
    with transaction.atomic():
        return _store(snapshot_id, seen)


def _act_on(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot: Snapshot,
    action: str,
    parameters: dict[str, Any],
    call: Callable[[], Any],
    client_addr: str | None,
    key: str = "",
) -> Snapshot:
    """Call Cinder for one snapshot, then mirror, audit, track, and settle the key."""
    try:
        call()
    except errors.CloudError as exc:
        if key:
            idempotency.release(key=key)
        _record(
            scope=scope,
            action=action,
            outcome=audit.outcome_of(exc),
            project_id=snapshot.project_id,
            snapshot_id=snapshot.id,
            name=snapshot.name,
            parameters=parameters,
            error=exc,
            client_addr=client_addr,
        )
        raise
    seen = _read(gateway, snapshot.id)
    with transaction.atomic():
        row = _store(snapshot.id, seen)
        _record(
            scope=scope,
            action=action,
            outcome=Outcome.SUCCESS,
            project_id=snapshot.project_id,
            snapshot_id=snapshot.id,
            name=snapshot.name,
            parameters=parameters,
            client_addr=client_addr,
        )
        if key:
            idempotency.finish(key=key, target_id=snapshot.id)
    return row


def _admit(
    scope: Scope,
    permission: Action,
    *,
    action: str,
    project_id: str | None,
    snapshot: Snapshot | None = None,
    parameters: dict[str, Any] | None,
    client_addr: str | None,
    key: str,
) -> Snapshot | None:
    """Steps 2 and 3: the permission (a refusal audited), then the form's idempotency key.
    Returns the earlier result when this submit repeats one, else None."""
    _check(
        scope,
        permission,
        action=action,
        project_id=project_id,
        snapshot=snapshot,
        parameters=parameters,
        client_addr=client_addr,
    )
    return _repeat(scope, key, action)


def _single(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    permission: Action,
    action: str,
    parameters: Callable[[Snapshot], dict[str, Any]],
    refusal: Callable[[Snapshot], str],
    call: Callable[[Snapshot], Any],
    client_addr: str | None,
    key: str,
    audit_denied_parameters: bool = True,
) -> Snapshot:
    """The steps of one action on one snapshot, in order (see the module's docstring).

    `parameters` gives what the audit event records, `refusal` the reason the dashboard
    refuses locally (empty: none), `call` the request to Cinder.
    """
    snapshot = _load(scope, snapshot_id)
    params = parameters(snapshot)
    earlier = _admit(
        scope,
        permission,
        action=action,
        project_id=snapshot.project_id,
        snapshot=snapshot,
        parameters=params if audit_denied_parameters else None,
        client_addr=client_addr,
        key=key,
    )
    if earlier is not None:
        return earlier
    reason = refusal(snapshot)
    if reason:
        raise _refuse(
            scope,
            snapshot,
            action=action,
            reason=reason,
            parameters=params,
            client_addr=client_addr,
            key=key,
        )
    return _act_on(
        scope=scope,
        gateway=gateway,
        snapshot=snapshot,
        action=action,
        parameters=params,
        call=lambda: call(snapshot),
        client_addr=client_addr,
        key=key,
    )


def _gone_reason(snapshot: Snapshot) -> str:
    return "This snapshot no longer exists in Cinder." if snapshot.deleted_at is not None else ""


# --- create ---------------------------------------------------------------------------------
def create_snapshot(
    *,
    scope: Scope,
    gateway: Gateway,
    volume_id: str,
    name: str,
    description: str,
    metadata: dict[str, str],
    force: bool,
    idempotency_key: str,
    client_addr: str | None,
    volume_name: str | None = None,
) -> Snapshot:
    """Snapshot a volume of the user's current project. Returns the new mirror row (creating)."""
    action = "create_snapshot"
    parameters = {
        "volume_id": volume_id,
        "name": name,
        "description": description,
        "metadata": metadata,
        "force": force,
    }
    earlier = _admit(
        scope,
        Action.CREATE,
        action=action,
        project_id=scope.project_id,
        parameters=parameters,
        client_addr=client_addr,
        key=idempotency_key,
    )
    if earlier is not None:
        return earlier
    try:
        data = gateway.create_snapshot(
            volume_id=volume_id,
            name=name,
            description=description,
            metadata=metadata or None,
            force=force,
        )
    except errors.CloudError as exc:
        if idempotency_key:
            idempotency.release(key=idempotency_key)
        _record(
            scope=scope,
            action=action,
            outcome=audit.outcome_of(exc),
            project_id=scope.project_id,
            name=name,
            parameters=parameters,
            error=exc,
            client_addr=client_addr,
        )
        raise
    # The create answer carries neither project nor progress (no extended attributes): the
    # snapshot lives in the token's project and starts at 0 %.
    data = dataclasses.replace(
        data,
        project_id=data.project_id or scope.project_id,
        progress=data.progress if data.progress is not None else 0,
    )
    with transaction.atomic():
        row, _ = mirror.apply(data, source=ChangeSource.ACTION, volume_name=volume_name)
        if not row.project_name and row.project_id == scope.project_id and scope.project_name:
            Snapshot.objects.filter(pk=row.pk).update(project_name=scope.project_name)
            row.project_name = scope.project_name
        _record(
            scope=scope,
            action=action,
            outcome=Outcome.SUCCESS,
            project_id=row.project_id,
            snapshot_id=row.id,
            name=row.name,
            parameters=parameters,
            client_addr=client_addr,
        )
        if idempotency_key:
            idempotency.finish(key=idempotency_key, target_id=row.id)
        queue.enqueue(TRACK_TASK, snapshot_id=row.id)
    return row


# --- edit -----------------------------------------------------------------------------------
def update_snapshot(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    name: str,
    description: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> Snapshot:
    """Rename or re-describe a snapshot; sends only what changed."""
    action = "update_snapshot"
    snapshot = _load(scope, snapshot_id)
    parameters = {"name": name, "description": description}
    earlier = _admit(
        scope,
        Action.EDIT,
        action=action,
        project_id=snapshot.project_id,
        snapshot=snapshot,
        parameters=parameters,
        client_addr=client_addr,
        key=idempotency_key,
    )
    if earlier is not None:
        return earlier
    if reason := _gone_reason(snapshot):
        raise _refuse(
            scope,
            snapshot,
            action=action,
            reason=reason,
            parameters=parameters,
            client_addr=client_addr,
            key=idempotency_key,
        )
    changes: dict[str, str] = {}
    if name != snapshot.name:
        changes["name"] = name
    if description != snapshot.description:
        changes["description"] = description
    if not changes:
        if idempotency_key:
            idempotency.finish(key=idempotency_key, target_id=snapshot.id)
        return snapshot
    return _act_on(
        scope=scope,
        gateway=gateway,
        snapshot=snapshot,
        action=action,
        parameters={**changes, "previous": {k: getattr(snapshot, k) for k in changes}},
        call=lambda: gateway.update_snapshot(snapshot.id, **changes),
        client_addr=client_addr,
        key=idempotency_key,
    )


def update_snapshot_metadata(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    set_items: dict[str, str],
    remove_keys: Iterable[str],
    client_addr: str | None,
    idempotency_key: str = "",
) -> Snapshot:
    """Add or change keys (merge) and remove keys, through the metadata endpoints.

    Only the keys the person touched are sent, so a key someone else added meanwhile survives.
    Cinder's current metadata is read first, so a key already gone is not deleted twice (404).
    """
    remove = sorted(set(remove_keys) - set(set_items))

    def call(snapshot: Snapshot) -> None:
        current = gateway.get_snapshot_metadata(snapshot.id)
        to_set = {k: v for k, v in set_items.items() if current.get(k) != v}
        to_remove = [k for k in remove if k in current]
        if to_set:
            gateway.set_snapshot_metadata(snapshot.id, to_set)
        if to_remove:
            try:
                gateway.delete_snapshot_metadata(snapshot.id, to_remove)
            except errors.CloudError:
                if to_set:  # the merge went through: keep the mirror true before reporting
                    _refresh(gateway, snapshot.id)
                raise

    return _single(
        scope=scope,
        gateway=gateway,
        snapshot_id=snapshot_id,
        permission=Action.EDIT,
        action="update_snapshot_metadata",
        parameters=lambda snapshot: {"set": set_items, "remove": remove},
        refusal=_gone_reason,
        call=call,
        client_addr=client_addr,
        key=idempotency_key,
    )


# --- delete ---------------------------------------------------------------------------------
def _deletable_reason(snapshot: Snapshot) -> str:
    if snapshot.deleted_at is not None:
        return "It has already been deleted."
    if snapshot.status not in DELETABLE:
        return (
            f"Its status is {snapshot.get_status_display().lower()}; Cinder deletes only "
            "available or error snapshots."
        )
    if snapshot.group_snapshot_id:
        return "It belongs to a group snapshot; delete the group snapshot instead."
    return ""


def why_not_deletable(snapshot: Snapshot) -> str:
    """Empty when a plain delete may be offered, else the reason (shown instead of the button)."""
    return _deletable_reason(snapshot)


def delete_snapshot(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> Snapshot:
    """Ask Cinder to delete an available or error snapshot; it goes to `deleting`."""
    return _single(
        scope=scope,
        gateway=gateway,
        snapshot_id=snapshot_id,
        permission=Action.DELETE,
        action="delete_snapshot",
        parameters=lambda snapshot: {"status": snapshot.status},
        refusal=_deletable_reason,
        call=lambda snapshot: gateway.delete_snapshot(snapshot.id),
        client_addr=client_addr,
        key=idempotency_key,
        audit_denied_parameters=False,
    )


def force_delete_snapshot(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> Snapshot:
    """Admin: delete whatever the status (os-force_delete), e.g. out of `error_deleting`."""
    return _single(
        scope=scope,
        gateway=gateway,
        snapshot_id=snapshot_id,
        permission=Action.FORCE_DELETE,
        action="force_delete_snapshot",
        parameters=lambda snapshot: {"status": snapshot.status},
        refusal=lambda snapshot: (
            "It has already been deleted." if snapshot.deleted_at is not None else ""
        ),
        call=lambda snapshot: gateway.force_delete_snapshot(snapshot.id),
        client_addr=client_addr,
        key=idempotency_key,
    )


# --- admin status repairs ---------------------------------------------------------------------
def reset_snapshot_status(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    status: str,
    reason: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> Snapshot:
    """Admin: write a status directly (os-reset_status). The reason goes into the audit log."""

    def refusal(snapshot: Snapshot) -> str:
        if status not in RESETTABLE:
            return f"Cinder does not know the status {status!r}."
        if not reason.strip():
            return "Give a reason: it is kept in the audit log."
        return _gone_reason(snapshot)

    return _single(
        scope=scope,
        gateway=gateway,
        snapshot_id=snapshot_id,
        permission=Action.RESET_STATUS,
        action="reset_snapshot_status",
        parameters=lambda snapshot: {
            "status": status,
            "previous_status": snapshot.status,
            "reason": reason,
        },
        refusal=refusal,
        call=lambda snapshot: gateway.reset_snapshot_status(snapshot.id, status),
        client_addr=client_addr,
        key=idempotency_key,
    )


def allowed_set_statuses(current: str) -> tuple[str, ...]:
    """The statuses os-update_snapshot_status accepts from `current` (empty: none)."""
    if current not in Status.values:
        return ()
    return tuple(str(s) for s in SET_STATUS_TRANSITIONS.get(Status(current), ()))


def set_snapshot_status(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_id: str,
    status: str,
    progress: int | None,
    client_addr: str | None,
    idempotency_key: str = "",
) -> Snapshot:
    """Admin: move a creating/deleting snapshot on, with a progress (os-update_snapshot_status)."""

    def refusal(snapshot: Snapshot) -> str:
        allowed = allowed_set_statuses(snapshot.status)
        if not allowed:
            return (
                f"Cinder changes the status this way only from creating or deleting; this "
                f"snapshot is {snapshot.status}. Use reset status instead."
            )
        if status not in allowed:
            return f"From {snapshot.status}, Cinder accepts only: {', '.join(allowed)}."
        if progress is not None and not 0 <= progress <= 100:
            return "Progress must be between 0 and 100 %."
        return ""

    return _single(
        scope=scope,
        gateway=gateway,
        snapshot_id=snapshot_id,
        permission=Action.SET_STATUS,
        action="set_snapshot_status",
        parameters=lambda snapshot: {
            "status": status,
            "progress": progress,
            "previous_status": snapshot.status,
        },
        refusal=refusal,
        call=lambda snapshot: gateway.set_snapshot_status(snapshot.id, status, progress),
        client_addr=client_addr,
        key=idempotency_key,
    )


# --- bulk -----------------------------------------------------------------------------------
def _bulk(
    one: Callable[..., Snapshot],
    *,
    permission: Action,
    verb: str,
    action: str,
    scope: Scope,
    gateway: Gateway,
    snapshot_ids: Iterable[str],
    client_addr: str | None,
    idempotency_key: str,
    **options: Any,
) -> BulkResult:
    """Run the single action `one` (with `options`) per snapshot and report each outcome.
    Stops calling once the cloud is down."""
    snapshot_ids = list(dict.fromkeys(snapshot_ids))  # unique, in the order given
    _check(
        scope,
        permission,
        action=action,
        project_id=None,
        parameters={"snapshot_ids": snapshot_ids},
        client_addr=client_addr,
    )
    if idempotency_key:
        earlier = idempotency.claim(key=idempotency_key, actor_id=scope.user_id, action=action)
        if earlier is not None:
            return BulkResult.from_dict(earlier.result)
    result = BulkResult(verb=verb)
    names = dict(
        selectors.visible_snapshots(scope, include_deleted=True)
        .filter(pk__in=snapshot_ids)
        .values_list("id", "name")
    )
    down: errors.Unavailable | None = None
    for sid in snapshot_ids:
        name = names.get(sid, "")
        if down is not None:
            result.items.append(ItemResult(sid, name, FAILED, "not sent: the cloud is unreachable"))
            continue
        try:
            one(scope=scope, gateway=gateway, snapshot_id=sid, client_addr=client_addr, **options)
        except Http404:
            result.items.append(ItemResult(sid, name, SKIPPED, "not found"))
        except PermissionDenied as exc:
            result.items.append(ItemResult(sid, name, SKIPPED, str(exc)))
        except ActionRefused as exc:
            result.items.append(ItemResult(sid, name, SKIPPED, str(exc)))
        except errors.Unavailable as exc:
            down = exc
            result.items.append(ItemResult(sid, name, FAILED, exc.user_message()))
        except errors.CloudError as exc:
            result.items.append(ItemResult(sid, name, REFUSED, exc.user_message()))
        else:
            result.items.append(ItemResult(sid, name, DONE))
    if idempotency_key:
        idempotency.finish(key=idempotency_key, result=result.as_dict())
    return result


def delete_snapshots(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_ids: list[str],
    client_addr: str | None,
    idempotency_key: str = "",
) -> BulkResult:
    return _bulk(
        delete_snapshot,
        permission=Action.DELETE,
        verb="deleted",
        action="delete_snapshots",
        scope=scope,
        gateway=gateway,
        snapshot_ids=snapshot_ids,
        client_addr=client_addr,
        idempotency_key=idempotency_key,
    )


def force_delete_snapshots(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_ids: list[str],
    client_addr: str | None,
    idempotency_key: str = "",
) -> BulkResult:
    return _bulk(
        force_delete_snapshot,
        permission=Action.FORCE_DELETE,
        verb="force-deleted",
        action="force_delete_snapshots",
        scope=scope,
        gateway=gateway,
        snapshot_ids=snapshot_ids,
        client_addr=client_addr,
        idempotency_key=idempotency_key,
    )


def reset_snapshots_status(
    *,
    scope: Scope,
    gateway: Gateway,
    snapshot_ids: list[str],
    status: str,
    reason: str,
    client_addr: str | None,
    idempotency_key: str = "",
) -> BulkResult:
    return _bulk(
        reset_snapshot_status,
        permission=Action.RESET_STATUS,
        verb=f"reset to {status}",
        action="reset_snapshots_status",
        scope=scope,
        gateway=gateway,
        snapshot_ids=snapshot_ids,
        client_addr=client_addr,
        idempotency_key=idempotency_key,
        status=status,
        reason=reason,
    )
