from snapshots.models.alerts import (
    AlertDelivery,
    AlertFiring,
    AlertRule,
    Webhook,
)
from snapshots.models.audit import AppendOnlyError, AuditEvent, StatusChange
from snapshots.models.detection import DetectState, ListenerState, SweepPart, TickSlot
from snapshots.models.observability import Heartbeat
from snapshots.models.operation import CloudState, Operation, WorkerLock
from snapshots.models.preference import TablePreference
from snapshots.models.snapshot import Project, Snapshot, Volume
from snapshots.models.throttle import ThrottleCounter
from snapshots.models.workflow import ManageableSnapshot, ProjectQuota, UserMessage

__all__ = [
    "AlertDelivery",
    "AlertFiring",
    "AlertRule",
    "AppendOnlyError",
    "AuditEvent",
    "CloudState",
    "DetectState",
    "Heartbeat",
    "ListenerState",
    "ManageableSnapshot",
    "Operation",
    "Project",
    "ProjectQuota",
    "Snapshot",
    "StatusChange",
    "SweepPart",
    "TablePreference",
    "ThrottleCounter",
    "TickSlot",
    "UserMessage",
    "Volume",
    "Webhook",
    "WorkerLock",
]
