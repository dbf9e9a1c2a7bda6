"""The errors an action service raises, for views (they import nothing from snapshots.cloud)."""

from snapshots.cloud.errors import BadCredentials, CloudError, NotAuthenticated, OutcomeUnknown
from snapshots.services.snapshots import ActionRefused

__all__ = ["ActionRefused", "BadCredentials", "CloudError", "NotAuthenticated", "OutcomeUnknown"]
