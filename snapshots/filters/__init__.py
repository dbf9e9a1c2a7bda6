"""One filterset per list: snapshots, the audit log, the status history."""

from snapshots.filters.audit import AuditEventFilter
from snapshots.filters.history import StatusChangeFilter
from snapshots.filters.snapshots import FILTER_PARAMS, SnapshotFilter

__all__ = ["FILTER_PARAMS", "AuditEventFilter", "SnapshotFilter", "StatusChangeFilter"]
