from snapshots.models.audit import AppendOnlyError, AuditEvent, StatusChange
from snapshots.models.observability import Heartbeat
from snapshots.models.operation import CloudState, Operation, WorkerLock
from snapshots.models.preference import TablePreference
from snapshots.models.snapshot import Project, Snapshot, Volume

__all__ = [
    "AppendOnlyError",
    "AuditEvent",
    "CloudState",
    "Heartbeat",
    "Operation",
    "Project",
    "Snapshot",
    "StatusChange",
    "TablePreference",
    "Volume",
    "WorkerLock",
]
