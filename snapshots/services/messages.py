"""Cinder's user messages ("why did it fail?") fetched by the workers into the mirror.

`refresh_messages` (beat, every MESSAGES_INTERVAL) runs only while the mirror holds a snapshot or
volume in an error status: one cloud-wide `GET /messages` with the service account, upserted into
`UserMessage`; messages Cinder no longer lists (expired or deleted) are dropped. Pages read the
mirror through `messages_for` and `latest_message_by_resource`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from snapshots.choices import FAILED
from snapshots.cloud import credentials
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot, UserMessage, Volume

VOLUME_ERRORS = ("error", "error_deleting", "error_restoring", "error_extending", "error_managing")


@dataclass(frozen=True)
class MessageRefresh:
    fetched: int = 0
    dropped: int = 0
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "messages: nothing in error"
        return f"messages: {self.fetched} fetched, {self.dropped} dropped"


def anything_failed() -> bool:
    return (
        Snapshot.objects.live().filter(status__in=FAILED).exists()
        or Volume.objects.filter(deleted_at__isnull=True, status__in=VOLUME_ERRORS).exists()
    )


def refresh_messages(*, gateway: Gateway | None = None, force: bool = False) -> MessageRefresh:
    if not force and not anything_failed():
        return MessageRefresh(skipped=True)
    gateway = gateway or credentials.service_gateway()
    found = gateway.list_messages()
    now = timezone.now()
    with transaction.atomic():
        for msg in found:
            UserMessage.objects.update_or_create(
                id=msg.id,
                defaults={
                    "project_id": msg.project_id,
                    "resource_type": msg.resource_type,
                    "resource_uuid": msg.resource_uuid,
                    "event_id": msg.event_id,
                    "user_message": msg.user_message,
                    "message_level": msg.message_level,
                    "request_id": msg.request_id,
                    "created_at": msg.created_at,
                    "fetched_at": now,
                },
            )
        dropped, _ = UserMessage.objects.exclude(id__in=[m.id for m in found]).delete()
    return MessageRefresh(fetched=len(found), dropped=dropped)


def messages_for(resource_uuid: str) -> list[UserMessage]:
    """The messages about one snapshot or volume, newest first (the caller checked visibility)."""
    return list(UserMessage.objects.filter(resource_uuid=resource_uuid))


def latest_message_by_resource(resource_uuids: Iterable[str]) -> dict[str, str]:
    """resource uuid -> the newest message's text, for a table's hints (one query)."""
    latest: dict[str, str] = {}
    rows = UserMessage.objects.filter(resource_uuid__in=list(resource_uuids)).values_list(
        "resource_uuid", "user_message"
    )
    for uuid, text in rows:  # newest first (Meta.ordering): keep the first seen
        latest.setdefault(uuid, text)
    return latest
