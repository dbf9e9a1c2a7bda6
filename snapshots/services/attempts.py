"""One attempt of a workflow action: its permission check, idempotency key and audit event.

The workflow services (volume_create, revert, manage) go through the same steps in the same
order: `admit` (the permission, a refusal audited; then the form's key), `refuse` (the
dashboard says no before calling Cinder), then exactly one of `failed` or `succeeded`. A call
whose outcome is unknown (the cloud did not answer) keeps its key: a resend of the same form is
not sent blind, it is told to wait for the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied

from snapshots.choices import Outcome
from snapshots.cloud import errors
from snapshots.permissions import Action, Scope, require
from snapshots.services import audit, idempotency
from snapshots.services.snapshots import ActionRefused

UNKNOWN_RESEND = (
    "Your earlier submission of this form got no answer from the cloud, so it may have gone "
    "through. The workers will show what happened; check the list before trying again."
)


@dataclass
class Attempt:
    scope: Scope
    action: str
    project_id: str
    key: str
    client_addr: str | None
    target_id: str = ""
    target_name: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def _audit(self, outcome: str, *, error: errors.CloudError | None = None, message: str = ""):
        audit.record(
            scope=self.scope,
            action=self.action,
            outcome=outcome,
            target_id=self.target_id,
            target_name=self.target_name,
            project_id=self.project_id,
            parameters=self.parameters,
            error=error,
            message=message,
            client_addr=self.client_addr,
        )

    def admit(self, permission: Action) -> str | None:
        """Check the permission, then claim the key. Returns the earlier result's target id
        when this submit repeats a finished one, else None (go ahead)."""
        try:
            require(self.scope, permission, self.project_id)
        except PermissionDenied as exc:
            self._audit(Outcome.DENIED, message=str(exc))
            raise
        if not self.key:
            return None
        earlier = idempotency.claim(key=self.key, actor_id=self.scope.user_id, action=self.action)
        if earlier is None:
            return None
        if (earlier.result or {}).get("unknown"):
            raise ActionRefused(UNKNOWN_RESEND)
        return earlier.target_id

    def refuse(self, reason: str) -> ActionRefused:
        if self.key:
            idempotency.release(key=self.key)
        self._audit(Outcome.DENIED, message=reason)
        return ActionRefused(reason)

    def failed(self, exc: errors.CloudError) -> None:
        if self.key:
            if isinstance(exc, errors.Unavailable):
                idempotency.finish(key=self.key, result={"unknown": True})
            else:
                idempotency.release(key=self.key)
        self._audit(audit.outcome_of(exc), error=exc)

    def succeeded(self, target_id: str = "", target_name: str = "") -> None:
        self.target_id = target_id or self.target_id
        self.target_name = target_name or self.target_name
        self._audit(Outcome.SUCCESS)
        if self.key:
            idempotency.finish(key=self.key, target_id=self.target_id)
