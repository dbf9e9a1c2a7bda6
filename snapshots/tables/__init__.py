"""One table per list: snapshots, the audit log, the status history, volumes, manageable and
stuck snapshots; exports of any of them."""

from snapshots.tables.audit import AuditEventTable
from snapshots.tables.history import StatusChangeTable
from snapshots.tables.manageable import ManageableTable
from snapshots.tables.snapshots import OPTIONAL_COLUMNS, TABLE_NAME, SnapshotTable, status_cell
from snapshots.tables.stuck import StuckTable
from snapshots.tables.volumes import VolumeTable

__all__ = [
    "OPTIONAL_COLUMNS",
    "TABLE_NAME",
    "AuditEventTable",
    "ManageableTable",
    "SnapshotTable",
    "StatusChangeTable",
    "StuckTable",
    "VolumeTable",
    "status_cell",
]
