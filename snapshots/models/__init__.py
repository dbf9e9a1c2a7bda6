from snapshots.models.alerts import (
    AlertDelivery,
    AlertFiring,
    AlertRule,
    ProjectQuota,
    Webhook,
)
from snapshots.models.audit import AppendOnlyError, AuditEvent, StatusChange
from snapshots.models.observability import Heartbeat
from snapshots.models.operation import CloudState, Operation, WorkerLock
from snapshots.models.preference import TablePreference
from snapshots.models.snapshot import Project, Snapshot, Volume

__all__ = [
    "AlertDelivery",
    "AlertFiring",
    "AlertRule",
    "AppendOnlyError",
    "AuditEvent",
    "CloudState",
    "Heartbeat",
    "Operation",
    "Project",
    "ProjectQuota",
    "Snapshot",
    "StatusChange",
    "TablePreference",
    "Volume",
    "Webhook",
    "WorkerLock",
]
