"""Create a snapshot of a volume of the user's current project."""

from __future__ import annotations

import dataclasses
import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from snapshots.choices import ChangeSource, Outcome
from snapshots.cloud import errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot, Volume
from snapshots.permissions import Action, Scope
from snapshots.services import idempotency, mirror, queue, quota
from snapshots.services.snapshots import (
    TRACK_TASK,
    ActionResult,
    Attempt,
    admit,
    call_failed,
    refuse,
    write_audit,
)

log = logging.getLogger(__name__)


def snapshot_create(
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
) -> ActionResult:
    """Snapshot a volume; the result's snapshot is the new mirror row (creating)."""
    attempt = Attempt(
        scope=scope,
        action="create_snapshot",
        project_id=scope.project_id,
        client_addr=client_addr,
        key=idempotency_key,
        subject=volume_id,
        parameters={
            "volume_id": volume_id,
            "name": name,
            "description": description,
            "metadata": metadata,
            "force": force,
        },
    )
    earlier = admit(attempt, Action.CREATE)
    if earlier is not None:
        return earlier
    size = Volume.objects.filter(pk=volume_id).values_list("size", flat=True).first() or 0
    reason = quota.quota_refusal(quota.quota_for(scope.project_id), snapshots=1, gigabytes=size)
    if reason:
        raise refuse(attempt, reason)
    sent_at = timezone.now()
    try:
        data = gateway.create_snapshot(
            volume_id=volume_id,
            name=name,
            description=description,
            metadata=metadata or None,
            force=force,
        )
    except errors.CloudError as exc:
        # What the worker looks for when the answer was lost: a snapshot of this volume with
        # this name and description, made around the time the request went out.
        request = {
            "volume_id": volume_id,
            "name": name,
            "description": description,
            "sent_at": sent_at.isoformat(),
        }
        call_failed(attempt, exc, request=request)
        raise
    # The create answer carries neither project nor progress (no extended attributes): the
    # snapshot lives in the token's project and starts at 0 %.
    data = dataclasses.replace(
        data,
        project_id=data.project_id or scope.project_id,
        progress=data.progress if data.progress is not None else 0,
    )
    try:
        with transaction.atomic():
            row, _ = mirror.apply(data, source=ChangeSource.ACTION, volume_name=volume_name)
            if not row.project_name and row.project_id == scope.project_id and scope.project_name:
                Snapshot.objects.filter(pk=row.pk).update(project_name=scope.project_name)
                row.project_name = scope.project_name
            write_audit(attempt, Outcome.SUCCESS, receipt=data.receipt, target=row)
            if idempotency_key:
                idempotency.finish(key=idempotency_key, target_id=row.id)
            queue.enqueue(TRACK_TASK, snapshot_id=row.id)
    except DatabaseError:
        log.exception("snapshot %s was created but could not be recorded", data.id)
        return ActionResult(snapshot=None, recorded=False)
    return ActionResult(snapshot=row)
