from snapshots.models.audit import AppendOnlyError, AuditEvent, StatusChange
from snapshots.models.operation import CloudState, Operation, WorkerLock
from snapshots.models.preference import TablePreference
from snapshots.models.snapshot import Project, Snapshot, Volume
from snapshots.models.throttle import ThrottleCounter
from snapshots.models.workflow import ManageableSnapshot, ProjectQuota, UserMessage

__all__ = [
    "AppendOnlyError",
    "AuditEvent",
    "CloudState",
    "ManageableSnapshot",
    "Operation",
    "Project",
    "ProjectQuota",
    "Snapshot",
    "StatusChange",
    "TablePreference",
    "ThrottleCounter",
    "UserMessage",
    "Volume",
    "WorkerLock",
]
