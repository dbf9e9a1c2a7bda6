"""Cinder v3: the handler groups put together (one module per concern)."""

from __future__ import annotations

from .attachments import Attachments
from .handlers import Handlers
from .listing import Listing
from .manageable import Manageable
from .messages import Messages
from .metadata import Metadata
from .microversions import Ctx, parse_microversion, versions_doc, vstr
from .quota import Quota
from .snapshot_actions import SnapshotActions
from .snapshots import Snapshots
from .views import Views
from .volume_actions import VolumeActions
from .volumes import Volumes

__all__ = ["Cinder", "Ctx", "parse_microversion", "versions_doc", "vstr"]


class Cinder(
    Snapshots,
    Metadata,
    SnapshotActions,
    Volumes,
    VolumeActions,
    Attachments,
    Messages,
    Manageable,
    Quota,
    Listing,
    Views,
    Handlers,
):
    """The handlers. Every public method runs under the store lock and returns (status, body)."""
