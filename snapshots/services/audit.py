"""The only writer of AuditEvent rows."""

from __future__ import annotations

from typing import Any

from snapshots.choices import Outcome
from snapshots.cloud.errors import CloudError, Unavailable
from snapshots.models import AuditEvent
from snapshots.permissions import Scope

SYSTEM_ACTOR = "system"


def record(
    *,
    scope: Scope | None,
    action: str,
    outcome: str,
    target_id: str = "",
    target_name: str = "",
    project_id: str = "",
    parameters: dict[str, Any] | None = None,
    error: CloudError | None = None,
    message: str = "",
    client_addr: str | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one audit event. Never pass a token or password in `parameters`."""
    status_code = None
    request_id = ""
    if error is not None:
        status_code = error.status_code
        request_id = error.request_id
        message = message or error.message
    return AuditEvent.objects.create(
        actor_id=scope.user_id if scope else "",
        actor_name=actor_name or (scope.username if scope else SYSTEM_ACTOR),
        project_id=project_id or (scope.project_id if scope else ""),
        action=action,
        target_id=target_id,
        target_name=target_name[:255],
        parameters=parameters or {},
        outcome=outcome,
        status_code=status_code,
        message=message,
        request_id=request_id,
        client_addr=client_addr or None,
    )


def outcome_of(error: CloudError | None) -> str:
    if error is None:
        return Outcome.SUCCESS
    if isinstance(error, Unavailable):
        return Outcome.FAILED
    return Outcome.REFUSED
