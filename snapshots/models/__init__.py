from snapshots.models.audit import AppendOnlyError, AuditEvent, StatusChange
from snapshots.models.detection import DetectState, ListenerState, TickSlot
from snapshots.models.operation import CloudState, Operation, WorkerLock
from snapshots.models.preference import TablePreference
from snapshots.models.snapshot import Project, Snapshot, Volume

__all__ = [
    "AppendOnlyError",
    "AuditEvent",
    "CloudState",
    "DetectState",
    "ListenerState",
    "Operation",
    "Project",
    "Snapshot",
    "StatusChange",
    "TablePreference",
    "TickSlot",
    "Volume",
    "WorkerLock",
]
