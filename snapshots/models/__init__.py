from snapshots.models.audit import AppendOnlyError, AuditEvent, StatusChange
from snapshots.models.operation import CloudState, Operation, WorkerLock
from snapshots.models.preference import TablePreference
from snapshots.models.snapshot import Project, Snapshot, Volume
from snapshots.models.throttle import ThrottleCounter

__all__ = [
    "AppendOnlyError",
    "AuditEvent",
    "CloudState",
    "Operation",
    "Project",
    "Snapshot",
    "StatusChange",
    "TablePreference",
    "ThrottleCounter",
    "Volume",
    "WorkerLock",
]
