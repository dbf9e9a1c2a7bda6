"""Cinder's snapshot statuses, what they mean for the UI, and the dashboard's roles."""

from django.db import models


class Status(models.TextChoices):
    CREATING = "creating", "Creating"
    AVAILABLE = "available", "Available"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"
    UPDATING = "updating", "Updating"
    ERROR = "error", "Error"
    ERROR_DELETING = "error_deleting", "Error deleting"
    UNMANAGING = "unmanaging", "Unmanaging"
    BACKING_UP = "backing-up", "Backing up"
    RESTORING = "restoring", "Restoring"


# Statuses the worker keeps polling: the snapshot is on its way somewhere else.
TRANSITIONAL = frozenset(
    {
        Status.CREATING,
        Status.DELETING,
        Status.UPDATING,
        Status.BACKING_UP,
        Status.RESTORING,
        Status.UNMANAGING,
    }
)
# Final failures: shown in red, never polled (Horizon polls error_deleting forever; we do not).
FAILED = frozenset({Status.ERROR, Status.ERROR_DELETING})
# Statuses a snapshot can be stuck in (the admin "stuck" queue).
STUCK_CANDIDATES = frozenset({Status.CREATING, Status.DELETING, Status.ERROR_DELETING})
# Cinder accepts delete only from these.
DELETABLE = frozenset({Status.AVAILABLE, Status.ERROR})
# os-reset_status accepts any of these.
RESETTABLE = tuple(s.value for s in Status)
# os-update_snapshot_status transitions Cinder allows.
SET_STATUS_TRANSITIONS = {
    Status.CREATING: (Status.CREATING, Status.AVAILABLE, Status.ERROR),
    Status.DELETING: (Status.DELETING, Status.ERROR_DELETING),
}

BADGE = {
    Status.AVAILABLE: "success",
    Status.CREATING: "info",
    Status.DELETING: "warning",
    Status.UPDATING: "info",
    Status.BACKING_UP: "info",
    Status.RESTORING: "info",
    Status.UNMANAGING: "warning",
    Status.ERROR: "danger",
    Status.ERROR_DELETING: "danger",
    Status.DELETED: "secondary",
}


def badge(status: str) -> str:
    return BADGE.get(status, "secondary")


class Role(models.TextChoices):
    READER = "reader", "Reader"
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"


# Local sign-in: Django groups that grant the roles above.
ROLE_GROUPS = {
    "snapshot-readers": Role.READER,
    "snapshot-members": Role.MEMBER,
    "snapshot-admins": Role.ADMIN,
}


class ChangeSource(models.TextChoices):
    SYNC = "sync", "Sync"
    TRACK = "track", "Track"
    ACTION = "action", "Action"
    NOTIFICATION = "notification", "Notification"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Succeeded"
    REFUSED = "refused", "Refused by Cinder"
    DENIED = "denied", "Denied by the dashboard"
    FAILED = "failed", "Failed (cloud unreachable)"
    # Sent, but no answer said whether Cinder acted; a later event of the same action, whose
    # parameters name this one (`reconciles`), says what the worker found.
    UNKNOWN = "unknown", "Unknown (being checked)"
