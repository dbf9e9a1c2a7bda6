"""Volumes in a transitional status, followed by the workers until they settle.

A volume made from a snapshot starts `creating`; a revert makes it `reverting`. `track_volumes`
(beat, every TRACK_INTERVAL, and at once after such an action) reads each of them with the
service account and stores Cinder's answer in the volume mirror; a volume Cinder no longer has
is marked gone. A volume that ends in an error reads Cinder's user messages at once (the
"why did it fail?" of the snapshot page's made volumes).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from snapshots import memo
from snapshots.cloud import credentials, errors
from snapshots.cloud.gateway import Gateway
from snapshots.models import Volume
from snapshots.services import messages, mirror

TRACK_TASK = "snapshots.tasks.track_volumes"
TRANSITIONAL_VOLUME = frozenset(
    {
        "creating",
        "deleting",
        "reverting",
        "attaching",
        "detaching",
        "extending",
        "retyping",
        "downloading",
        "uploading",
        "backing-up",
        "restoring-backup",
    }
)
# Follow at most this many volumes per run; the rest wait for the next beat.
BATCH = 100


@dataclass(frozen=True)
class VolumeTrack:
    checked: int = 0
    changed: int = 0
    gone: int = 0

    def summary(self) -> str:
        return f"volumes: {self.checked} checked, {self.changed} changed, {self.gone} gone"


def transitional_volumes():
    return Volume.objects.filter(deleted_at__isnull=True, status__in=TRANSITIONAL_VOLUME)


def track_volumes(*, volume_id: str | None = None, gateway: Gateway | None = None) -> VolumeTrack:
    if volume_id:
        ids = [volume_id]
    else:
        ids = list(transitional_volumes().order_by("last_seen").values_list("id", flat=True))[
            :BATCH
        ]
    if not ids:
        return VolumeTrack()
    gateway = gateway or credentials.service_gateway()
    changed = gone = 0
    failed = False
    for vid in ids:
        now = timezone.now()
        try:
            data = gateway.get_volume(vid)
        except errors.NotFound:
            gone += Volume.objects.filter(pk=vid, deleted_at__isnull=True).update(deleted_at=now)
            memo.changed()
            continue
        changed += mirror.apply_volume_page([data], now=now)
        failed = failed or data.status in messages.VOLUME_ERRORS
    if failed:
        messages.refresh_messages(gateway=gateway, force=True)
    return VolumeTrack(checked=len(ids), changed=changed, gone=gone)
