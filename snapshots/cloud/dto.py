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
