"""Small helpers every view uses."""

from __future__ import annotations

from django.contrib import messages

from snapshots.cloud.errors import CloudError


def client_addr(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def flash_cloud_error(request, error: CloudError) -> None:
    messages.error(request, error.user_message())
