"""Cinder's request rules shared by the handlers: statuses, filters, schema checks."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from .errors import SimError, bad_request
from .store import SNAPSHOT_COLUMNS

SNAPSHOT_STATUSES = (
    "creating",
    "available",
    "error",
    "deleting",
    "error_deleting",
    "deleted",
    "updating",
    "unmanaging",
    "backing-up",
    "restoring",
)
BOOL_TRUE = (True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t")
BOOL_FALSE = (
    False,
    "False",
    "FALSE",
    "false",
    "0",
    "OFF",
    "Off",
    "off",
    "NO",
    "No",
    "no",
    "n",
    "f",
)
TRUTHY = {"1", "t", "true", "on", "y", "yes"}
FALSY = {"0", "f", "false", "off", "n", "no"}
MAX_LIMIT = 1000
DEFAULT_SNAPSHOT_FILTERS = (
    "name",
    "status",
    "volume_id",
    "metadata",
    "availability_zone",
    "consumes_quota",
)
DEFAULT_VOLUME_FILTERS = (
    "name",
    "status",
    "metadata",
    "bootable",
    "migration_status",
    "availability_zone",
    "group_id",
    "size",
    "created_at",
    "updated_at",
    "consumes_quota",
)
RESOURCE_FILTERS = {
    "volume": list(DEFAULT_VOLUME_FILTERS),
    "backup": ["name", "status", "volume_id"],
    "snapshot": list(DEFAULT_SNAPSHOT_FILTERS),
    "group": ["name"],
    "group_snapshot": ["name", "status", "group_id"],
    "attachment": ["volume_id", "status", "instance_id", "attach_status"],
    "message": ["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
    "pool": ["name", "volume_type"],
    "volume_type": ["is_public", "extra_specs"],
}
CREATE_META_KEY = re.compile(r"^[a-zA-Z0-9\-_:. /]{1,255}$")
METADATA_KEY = re.compile(r"^[a-zA-Z0-9\-_:. ]{1,255}$")
# The patterns as cinder 29's schema states them in its error messages.
PATTERN_TEXT = {
    CREATE_META_KEY: "^[a-zA-Z0-9-_:. /]{1,255}$",
    METADATA_KEY: "^[a-zA-Z0-9-_:. ]{1,255}$",
}
VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
# Columns whose null sorts (and pages) as "" or as 0; volumes share these column names.
NULLABLE_TEXT = frozenset(c for c, null in SNAPSHOT_COLUMNS.items() if null == "")
NULLABLE_NUM = frozenset(c for c, null in SNAPSHOT_COLUMNS.items() if null == 0)
VOLUME_SORT = {
    "id": "id",
    "name": "display_name",
    "display_name": "display_name",
    "size": "size",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "availability_zone": "availability_zone",
    "project_id": "project_id",
    "user_id": "user_id",
    "bootable": "bootable",
    "volume_type": "volume_type",
}


# fields.SnapshotStatus.ALL, in cinder's order, as its reset-status refusal prints it
RESET_STATUS_ORDER = (
    "error",
    "available",
    "creating",
    "deleting",
    "deleted",
    "updating",
    "error_deleting",
    "unmanaging",
    "backing-up",
    "restoring",
)


def is_printable(text: str) -> bool:
    for ch in text:
        if ord(ch) >= 0xFFFF:
            return False
        cat = unicodedata.category(ch)
        if cat.startswith("C") or (cat.startswith("Z") and cat != "Zs"):
            return False
    return True


def is_boolean_like(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, str) and value in BOOL_TRUE + BOOL_FALSE


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.hex == value.replace("-", "").lower()


def invalid_input(field: str, detail: str) -> SimError:
    """cinder's schema error: with the failing field, or (top level, no path) the bare message."""
    if not field:
        return bad_request(detail.split(". ", 1)[1] if detail.startswith("Value: ") else detail)
    return bad_request(f"Invalid input for field/attribute {field}. {detail}")


def required(field: str, body: dict, key: str) -> SimError:
    return invalid_input(field, f"Value: {body}. '{key}' is a required property")


def check_nullable_string(field: str, value: Any, *, printable: bool = False) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise invalid_input(field, f"Value: {value!r}. {value!r} is not of type 'string', 'null'")
    if len(value) > 255:
        raise invalid_input(field, f"Value: {value}. {value!r} is too long")
    if printable and not is_printable(value):
        raise invalid_input(
            field, f"Value: {value}. {value!r} does not match the printable-characters pattern"
        )


def check_metadata(field: str, value: Any, pattern: re.Pattern, allow_null: bool) -> None:
    if value is None and allow_null:
        return
    if not isinstance(value, dict):
        raise invalid_input(field, f"Value: {value!r}. {value!r} is not of type 'object'")
    for key, val in value.items():
        if not pattern.match(key):
            # cinder 29's wording (jsonschema patternProperties), field `metadata` or `meta`
            raise invalid_input(
                field,
                f"Value: {value!r}. {key!r} does not match any of the regexes: "
                f"'{PATTERN_TEXT[pattern]}'",
            )
        # a value is checked under its own key's name, as cinder 29 reports it
        if not isinstance(val, str):
            raise invalid_input(key, f"Value: {val!r}. {val!r} is not of type 'string'")
        if len(val) > 255:
            raise invalid_input(key, f"Value: {val}. {val!r} is too long")


def check_keys(field: str, body: dict, allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        shown = ", ".join(repr(k) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise invalid_input(
            field,
            f"Value: {body}. Additional properties are not allowed ({shown} {verb} unexpected)",
        )


def bool_param(name: str, value: str) -> bool:
    low = str(value).strip().lower()
    if low in TRUTHY:
        return True
    if low in FALSY:
        return False
    raise bad_request(f"Value '{value}' for parameter '{name}' is not a valid boolean.")
