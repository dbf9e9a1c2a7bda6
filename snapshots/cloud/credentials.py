"""Which gateway a piece of code gets: the signed-in user's, or the service account's."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from snapshots.cloud.errors import CloudError
from snapshots.cloud.gateway import Gateway
from snapshots.cloud.identity import Keystone

_lock = threading.Lock()
_service: Gateway | None = None


def _verify() -> Any:
    value = settings.KEYSTONE_VERIFY
    if value.lower() in {"false", "0", "no"}:
        return False
    if value.lower() in {"true", "1", "yes", ""}:
        return True
    return value


def keystone() -> Keystone:
    return Keystone(
        settings.KEYSTONE_URL,
        verify=_verify(),
        timeout=settings.CLOUD_TIMEOUT,
        region=settings.KEYSTONE_REGION,
        interface=settings.KEYSTONE_INTERFACE,
    )


def _build_service(timeout: float) -> Gateway:
    if settings.CINDER_NOAUTH_ENDPOINT:
        return Gateway.for_noauth(
            endpoint=settings.CINDER_NOAUTH_ENDPOINT,
            token=settings.CINDER_NOAUTH_TOKEN,
            verify=_verify(),
            timeout=timeout,
        )
    return Gateway.for_cloud(
        settings.OS_CLOUD, config_file=settings.OS_CLIENT_CONFIG_FILE, timeout=timeout
    )


def service_gateway(*, fresh: bool = False) -> Gateway:
    """The service account's gateway (workers; every call in local mode). One per process."""
    global _service
    with _lock:
        if _service is None or fresh:
            _service = _build_service(settings.CLOUD_TIMEOUT)
        return _service


_action_service: Gateway | None = None


def _action_service_gateway() -> Gateway:
    global _action_service
    with _lock:
        if _action_service is None:
            _action_service = _build_service(settings.ACTION_TIMEOUT)
        return _action_service


def reset_service_gateway() -> None:
    global _service, _action_service
    with _lock:
        _service = None
        _action_service = None


def user_gateway(request, *, for_action: bool = False) -> Gateway:
    """The gateway for this request's user: their own token in keystone mode. `for_action`:
    with the short ACTION_TIMEOUT, so a form answers within seconds."""
    cloud = request.session.get("cloud") if settings.DASHBOARD_AUTH == "keystone" else None
    if not cloud:
        return _action_service_gateway() if for_action else service_gateway()
    return Gateway.for_token(
        token=cloud["token"],
        endpoint=cloud["endpoint"],
        project_id=cloud["project_id"],
        verify=_verify(),
        timeout=settings.ACTION_TIMEOUT if for_action else settings.CLOUD_TIMEOUT,
    )


_local_project: tuple[str, str] | None = None


def local_project() -> tuple[str, str]:
    """Local sign-in: the project (id, name) members work in. Cached for the process."""
    global _local_project
    if settings.LOCAL_PROJECT_ID:
        return settings.LOCAL_PROJECT_ID, settings.LOCAL_PROJECT_ID
    if _local_project is None:
        if settings.CINDER_NOAUTH_ENDPOINT:
            project = settings.CINDER_NOAUTH_TOKEN.split(":")[-1]
            _local_project = (project, project)
        else:
            try:
                _local_project = service_gateway().current_project()
            except CloudError:
                return "", ""
    return _local_project


def reset_local_project() -> None:
    global _local_project
    _local_project = None
