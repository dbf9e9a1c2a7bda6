"""Plain data the gateway returns. No openstacksdk object leaves snapshots/cloud/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Receipt:
    """Cinder's answer to a change that went through: its HTTP status and request id."""

    status_code: int | None
    request_id: str = ""


class Metadata(dict[str, str]):
    """A snapshot's whole metadata after a change, with Cinder's answer to that change."""

    receipt: Receipt | None = None


@dataclass(frozen=True, slots=True)
class SnapshotData:
    id: str
    name: str
    description: str
    status: str
    size: int
    volume_id: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None = None
    progress: int | None = None
    user_id: str = ""
    group_snapshot_id: str = ""
    consumes_quota: bool | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Cinder's answer to the change that returned this snapshot (create, update); None on reads.
    receipt: Receipt | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class VolumeData:
    id: str
    name: str
    size: int
    status: str
    project_id: str
    availability_zone: str = ""
    volume_type: str = ""
    bootable: bool = False
    attachments: int = 0
    created_at: datetime | None = None
    # The snapshot this volume was created from ("" when none): the delete warning uses it.
    source_snapshot_id: str = ""


@dataclass(frozen=True, slots=True)
class ProjectData:
    id: str
    name: str
    domain_id: str = ""


@dataclass(frozen=True, slots=True)
class SnapshotPage:
    items: list[SnapshotData]
    next_marker: str | None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    max_snapshots: int | None
    used_snapshots: int | None
    max_gigabytes: int | None
    used_gigabytes: int | None


@dataclass(frozen=True, slots=True)
class MessageData:
    """One of Cinder's user messages: why an asynchronous request failed."""

    id: str
    resource_type: str
    resource_uuid: str
    event_id: str
    user_message: str
    message_level: str
    created_at: datetime | None
    request_id: str = ""
    project_id: str = ""


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """A project's quota and what it uses (-1 = unlimited)."""

    project_id: str
    snapshots_limit: int
    snapshots_used: int
    gigabytes_limit: int
    gigabytes_used: int
    volumes_limit: int
    volumes_used: int


@dataclass(frozen=True, slots=True)
class ManageableSnapshotData:
    """A snapshot a backend holds, managed by Cinder (cinder_id) or not."""

    reference: dict[str, str]
    size: int
    safe_to_manage: bool
    source_reference: dict[str, str]
    reason_not_safe: str = ""
    cinder_id: str = ""
