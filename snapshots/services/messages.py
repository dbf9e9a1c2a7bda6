"""Cinder's user messages ("why did it fail?") fetched by the workers into the mirror.

`refresh_messages` (beat, every MESSAGES_INTERVAL) runs only while the mirror holds a snapshot or
volume in an error status, and then only when a snapshot newly failed since the last read, or
that read is older than MESSAGES_MAX_AGE (a volume the workers follow into an error reads them
at once): one cloud-wide `GET /messages` with the service account, upserted into `UserMessage`;
messages Cinder no longer lists (expired or deleted) are dropped. Pages read the
mirror through `messages_for` and `latest_message_by_resource`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from snapshots.choices import FAILED
from snapshots.cloud import credentials
from snapshots.cloud.gateway import Gateway
from snapshots.models import Snapshot, StatusChange, UserMessage, Volume

READ_AT_KEY = "messages:read-at"
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


def last_read() -> datetime | None:
    """When the messages were last read (the cache's note, else the newest row's)."""
    with contextlib.suppress(Exception):  # the cache is a note, not a dependency
        noted = cache.get(READ_AT_KEY)
        if noted is not None:
            return noted
    return UserMessage.objects.aggregate(at=Max("fetched_at"))["at"]


def due() -> bool:
    """Something is in error, and a snapshot failed since the last read or it is old."""
    if not anything_failed():
        return False
    read_at = last_read()
    if read_at is None or timezone.now() - read_at >= timedelta(seconds=settings.MESSAGES_MAX_AGE):
        return True
    return StatusChange.objects.filter(observed_at__gte=read_at, to_status__in=FAILED).exists()


def refresh_messages(*, gateway: Gateway | None = None, force: bool = False) -> MessageRefresh:
    if not force and not due():
        return MessageRefresh(skipped=True)
    gateway = gateway or credentials.service_gateway()
    now = timezone.now()
    found = gateway.list_messages()
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
    with contextlib.suppress(Exception):
        cache.set(READ_AT_KEY, now, timeout=None)
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
