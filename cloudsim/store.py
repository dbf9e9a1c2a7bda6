"""State of the simulated cloud: an SQLite database guarded by one lock, and a movable clock."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from datetime import UTC, datetime

from .store_workflows import WorkflowRecords

SCHEMA = """
CREATE TABLE IF NOT EXISTS domains (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    snapshot_quota INTEGER NOT NULL DEFAULT -1,
    gigabytes_quota INTEGER NOT NULL DEFAULT -1,
    volume_quota INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    password TEXT NOT NULL,
    email TEXT
);
CREATE TABLE IF NOT EXISTS assignments (
    user_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, project_id, role)
);
CREATE TABLE IF NOT EXISTS volumes (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT,
    display_name TEXT,
    display_description TEXT,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    availability_zone TEXT NOT NULL DEFAULT 'nova',
    volume_type TEXT NOT NULL DEFAULT '__DEFAULT__',
    bootable INTEGER NOT NULL DEFAULT 0,
    host TEXT,
    attached_to TEXT,
    created_at REAL NOT NULL,
    updated_at REAL,
    metadata TEXT NOT NULL DEFAULT '{}',
    snapshot_id TEXT,
    migration_status TEXT,
    multiattach INTEGER NOT NULL DEFAULT 0,
    use_quota INTEGER NOT NULL DEFAULT 1,
    due_at REAL,
    due_status TEXT
);
CREATE INDEX IF NOT EXISTS vol_project ON volumes (project_id, created_at, id);
CREATE INDEX IF NOT EXISTS vol_created ON volumes (created_at, id);
CREATE INDEX IF NOT EXISTS vol_due ON volumes (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL,
    deleted_at REAL,
    deleted INTEGER NOT NULL DEFAULT 0,
    user_id TEXT,
    project_id TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    cgsnapshot_id TEXT,
    group_snapshot_id TEXT,
    status TEXT NOT NULL,
    progress TEXT,
    volume_size INTEGER NOT NULL,
    scheduled_at REAL,
    display_name TEXT,
    display_description TEXT,
    encryption_key_id TEXT,
    volume_type_id TEXT,
    provider_location TEXT,
    provider_id TEXT,
    provider_auth TEXT,
    use_quota INTEGER NOT NULL DEFAULT 1,
    metadata TEXT NOT NULL DEFAULT '{}',
    due_at REAL,
    due_status TEXT
);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    instance_uuid TEXT,
    status TEXT NOT NULL,
    attach_mode TEXT NOT NULL DEFAULT 'rw',
    connector TEXT,
    attached_at REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS att_volume ON attachments (volume_id);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    request_id TEXT,
    resource_type TEXT NOT NULL,
    resource_uuid TEXT,
    event_id TEXT NOT NULL,
    message_level TEXT NOT NULL DEFAULT 'ERROR',
    user_message TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS msg_project ON messages (project_id, created_at);
-- what a backend holds that Cinder does not manage (LVM: logical volumes of unmanaged snapshots)
CREATE TABLE IF NOT EXISTS backend_snapshots (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    volume_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

SNAPSHOT_INDEXES = """
CREATE INDEX IF NOT EXISTS snap_created ON snapshots (created_at, id);
-- the expression `sort=updated_at` orders by (listing.py): a short page of the most recently
-- updated reads a few index entries instead of sorting every row on each call
CREATE INDEX IF NOT EXISTS snap_updated ON snapshots (COALESCE(updated_at, 0), created_at, id);
CREATE INDEX IF NOT EXISTS snap_project ON snapshots (project_id, created_at, id);
CREATE INDEX IF NOT EXISTS snap_volume ON snapshots (volume_id);
CREATE INDEX IF NOT EXISTS snap_status ON snapshots (status);
CREATE INDEX IF NOT EXISTS snap_due ON snapshots (due_at) WHERE due_at IS NOT NULL;
-- a project's quota usage (quota.py) counts and sums inside this index, not over its rows:
-- Cinder itself reads stored usage counters for it
CREATE INDEX IF NOT EXISTS snap_quota ON snapshots (project_id, use_quota, volume_size);
"""

# The columns of Cinder's snapshots table (each one a sort key, `sort=<column>`) and what a
# null in each sorts as: "" (text), 0 (a time) or None (never null). The table's other
# columns (metadata, due_*) are the simulator's own.
SNAPSHOT_COLUMNS: dict[str, str | int | None] = {
    "id": None,
    "created_at": None,
    "updated_at": 0,
    "deleted_at": 0,
    "deleted": None,
    "user_id": "",
    "project_id": None,
    "volume_id": None,
    "cgsnapshot_id": "",
    "group_snapshot_id": "",
    "status": None,
    "progress": "",
    "volume_size": None,
    "scheduled_at": 0,
    "display_name": "",
    "display_description": "",
    "encryption_key_id": "",
    "volume_type_id": "",
    "provider_location": "",
    "provider_id": "",
    "provider_auth": "",
    "use_quota": None,
}

ROLES = ("reader", "member", "admin")
IMPLIED = {
    "admin": ("admin", "member", "reader"),
    "member": ("member", "reader"),
    "reader": ("reader",),
}


def stable_id(kind: str, name: str) -> str:
    """A 32-hex id that stays the same across restarts (Keystone style)."""
    return hashlib.md5(f"cloudsim:{kind}:{name}".encode(), usedforsecurity=False).hexdigest()


def iso(ts: float | None) -> str | None:
    """Cinder's timestamp format: naive UTC with microseconds."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def iso_z(ts: float) -> str:
    """Keystone's timestamp format."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> float:
    text = value.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class Store(WorkflowRecords):
    """The database, the clock and the lock that guards both."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.executescript(SNAPSHOT_INDEXES)
        self.offset = 0.0
        self.stuck: set[str] = set()
        self._template: sqlite3.Connection | None = None
        self.on_notify = None  # called (table, row before, new status) after each change
        self._template_time = 0.0

    # -- clock -------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    # -- helpers -----------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return self.db.execute("SELECT COUNT(*) FROM projects").fetchone()[0] == 0

    def q(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    def q1(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        return self.db.execute(sql, params).fetchone()

    def x(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    # -- time-driven transitions -------------------------------------------------------------
    def materialise(self) -> None:
        """Apply every transition that is due at the simulator's current time."""
        now = self.now()
        with self.lock:
            stuck = sorted(self.stuck)
            skip = ""
            if stuck:
                skip = f" AND status NOT IN ({','.join('?' * len(stuck))})"
            for table in ("snapshots", "volumes"):
                rows = self.q(
                    f"SELECT * FROM {table} WHERE due_at IS NOT NULL AND due_at <= ?{skip}",
                    (now, *stuck),
                )
                if not rows:
                    continue
                self.x("BEGIN")
                try:
                    for row in rows:
                        self.on_transition(table, row)
                        if row["due_status"] == "gone":
                            self.x(f"DELETE FROM {table} WHERE id = ?", (row["id"],))
                            continue
                        extra = ""
                        if table == "snapshots" and row["due_status"] == "available":
                            extra = ", progress = '100%'"
                        self.x(
                            f"UPDATE {table} SET status = ?, updated_at = ?, due_at = NULL, "
                            f"due_status = NULL{extra} WHERE id = ?",
                            (row["due_status"], row["due_at"], row["id"]),
                        )
                    self.x("COMMIT")
                except Exception:
                    self.x("ROLLBACK")
                    raise
                if self.on_notify is not None:  # notifications (cloudsim/notify.py)
                    for row in rows:
                        self.on_notify(table, row, row["due_status"])

    # -- reset support -----------------------------------------------------------------------
    def save_template(self) -> None:
        """Remember the current content as the state that ``reset`` restores."""
        with self.lock:
            template = sqlite3.connect(":memory:", check_same_thread=False)
            self.db.backup(template)
            self._template = template
            self._template_time = self.now()

    def restore_template(self) -> None:
        with self.lock:
            self.offset = 0.0
            if self._template is None:
                return
            self._template.backup(self.db)
            delta = self.now() - self._template_time
            self.x("BEGIN")
            for table in ("snapshots", "volumes"):
                self.x(
                    f"UPDATE {table} SET created_at = created_at + ?, "
                    f"updated_at = updated_at + ?, due_at = due_at + ?",
                    (delta, delta, delta),
                )
            for table, cols in (
                ("attachments", ("created_at", "attached_at")),
                ("messages", ("created_at", "expires_at")),
                ("backend_snapshots", ("created_at",)),
            ):
                assign = ", ".join(f"{c} = {c} + ?" for c in cols)
                self.x(f"UPDATE {table} SET {assign}", (delta,) * len(cols))
            self.x("COMMIT")
            self._template_time += delta

    # -- identity lookups --------------------------------------------------------------------
    def roles_for(self, user_id: str, project_id: str) -> list[str]:
        rows = self.q(
            "SELECT role FROM assignments WHERE user_id = ? AND project_id = ?",
            (user_id, project_id),
        )
        effective: set[str] = set()
        for row in rows:
            effective.update(IMPLIED.get(row["role"], (row["role"],)))
        return [r for r in ("admin", "member", "reader") if r in effective] + sorted(
            effective - set(ROLES)
        )

    def project_by_ref(self, ref: str) -> sqlite3.Row | None:
        return self.q1("SELECT * FROM projects WHERE id = ? OR name = ?", (ref, ref))

    def info(self) -> dict:
        with self.lock:
            self.materialise()
            projects = {r["name"]: r["id"] for r in self.q("SELECT * FROM projects ORDER BY name")}
            users = {r["name"]: r["id"] for r in self.q("SELECT * FROM users ORDER BY name")}
            volumes = [
                {
                    "id": r["id"],
                    "name": r["display_name"],
                    "project_id": r["project_id"],
                    "status": r["status"],
                    "size": r["size"],
                }
                for r in self.q("SELECT * FROM volumes ORDER BY project_id, display_name")
            ]
            roles = [
                {"user_id": r["user_id"], "project_id": r["project_id"], "role": r["role"]}
                for r in self.q("SELECT * FROM assignments ORDER BY user_id, project_id")
            ]
            total = self.q1("SELECT COUNT(*) FROM snapshots")[0]
        return {
            "domains": {"Default": "default"},
            "projects": projects,
            "users": users,
            "roles": roles,
            "volumes": volumes,
            "snapshot_count": total,
            "now": iso(self.now()),
        }


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
