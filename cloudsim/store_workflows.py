"""What the simulated cloud keeps for the snapshot workflows besides volumes and snapshots:
attachments, Cinder's user messages, and the snapshots a backend holds outside Cinder."""

# SQL text here is only ever assembled from fixed table names; every value goes through a ?
# parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
import uuid

# cinder/message/message_field.py, as cinder 29 shows them: event id
# "VOLUME_<resource>_<action id>_<detail id>" and user_message "<action>:<detail>" (no space,
# cinder/api/v3/messages.py _build_user_message). A failed snapshot create is action 009 with
# detail 013 (SNAPSHOT_CREATE_ERROR, volume/manager.py create_snapshot).
SNAPSHOT_CREATE_FAILED = (
    "VOLUME_SNAPSHOT",
    "VOLUME_VOLUME_SNAPSHOT_009_013",
    "create snapshot:Snapshot failed to create.",
)
VOLUME_SCHEDULE_FAILED = (
    "VOLUME",
    "VOLUME_VOLUME_001_003",
    "schedule allocate volume:Could not find any available weighted backend.",
)
# provider_location (never shown by the API) of a snapshot os-snapshot-manage made
MANAGE_ATTEMPT = "managed-by-os-snapshot-manage"
MESSAGE_TTL = 30 * 86400  # cinder's message_ttl default: 2592000 s


def _changed_at(row: sqlite3.Row) -> float:
    return row["updated_at"] or row["created_at"]


class WorkflowRecords:
    """Store methods for attachments, messages and the backend's unmanaged snapshots (mixed
    into store.Store, whose q/q1/x/now they use)."""

    def on_transition(self, table: str, row: sqlite3.Row) -> None:
        """What a finished transition leaves behind besides the new status."""
        if table == "snapshots" and row["status"] == "unmanaging" and row["due_status"] == "gone":
            self.keep_on_backend(row["id"])
        elif row["status"] == "creating" and row["due_status"] == "error":
            self.record_failure(table, row["id"], row["due_at"])

    def attach(
        self, volume_id: str, instance_uuid: str, when: float, aid: str | None = None
    ) -> str:
        """An `attached` attachment (what os-complete leaves): seeding and /_sim use it."""
        vol = self.q1("SELECT project_id FROM volumes WHERE id = ?", (volume_id,))
        aid = aid or str(uuid.uuid4())
        self.x(
            "INSERT INTO attachments (id, volume_id, project_id, instance_uuid, status, "
            "attach_mode, attached_at, created_at) VALUES (?, ?, ?, ?, 'attached', 'rw', ?, ?)",
            (aid, volume_id, vol["project_id"], instance_uuid, when, when),
        )
        return aid

    def attachment_rows(self, volume_id: str, *, attached_only: bool = False) -> list:
        sql = "SELECT * FROM attachments WHERE volume_id = ?"
        if attached_only:
            sql += " AND status = 'attached'"
        return self.q(sql + " ORDER BY created_at, id", (volume_id,))

    def keep_on_backend(self, snapshot_id: str) -> None:
        """An unmanaged snapshot leaves Cinder, not the backend: it becomes manageable."""
        snap = self.q1("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,))
        vol = snap and self.q1("SELECT * FROM volumes WHERE id = ?", (snap["volume_id"],))
        if vol is None or not vol["host"]:
            return
        self.x(
            "INSERT OR REPLACE INTO backend_snapshots (name, host, volume_id, size, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                f"_snapshot-{snapshot_id}",
                vol["host"],
                vol["id"],
                snap["volume_size"],
                _changed_at(snap),
            ),
        )

    def record_failure(self, table: str, rid: str, when: float) -> None:
        """The user message cinder writes when it fails a create (cinder/message/message_field)."""
        row = self.q1(f"SELECT * FROM {table} WHERE id = ?", (rid,))
        if row is None:
            return
        if table == "snapshots":
            if row["provider_location"] == MANAGE_ATTEMPT:
                return  # cinder's manage_existing_snapshot flow leaves no user message
            kind, event, text = SNAPSHOT_CREATE_FAILED
        else:
            kind, event, text = VOLUME_SCHEDULE_FAILED
        self.add_message(row["project_id"], kind, rid, event, text, when)

    def add_message(
        self,
        project_id: str,
        resource_type: str,
        resource_uuid: str | None,
        event_id: str,
        user_message: str,
        when: float | None = None,
        request_id: str | None = None,
    ) -> str:
        created = self.now() if when is None else when
        mid = str(uuid.uuid4())
        self.x(
            "INSERT INTO messages (id, project_id, request_id, resource_type, resource_uuid, "
            "event_id, message_level, user_message, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'ERROR', ?, ?, ?)",
            (
                mid,
                project_id,
                request_id or f"req-{uuid.uuid4()}",
                resource_type,
                resource_uuid,
                event_id,
                user_message,
                created,
                created + MESSAGE_TTL,
            ),
        )
        return mid
