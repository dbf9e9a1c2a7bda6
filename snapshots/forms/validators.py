"""Cinder's input rules for snapshots, checked in the form before any call is made.

The rules are those of cinder 29's JSON schemas, so a value that passes here is one Cinder
accepts, and the person sees the reason next to the field instead of a 400 after a round trip.
The create and edit forms share these.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

MAX_LENGTH = 255
# Keys on create may contain "/"; the metadata endpoints (edit) refuse it.
CREATE_METADATA_KEY = re.compile(r"^[a-zA-Z0-9\-_:. /]{1,255}$")
METADATA_KEY = re.compile(r"^[a-zA-Z0-9\-_:. ]{1,255}$")
KEY_CHARS_HELP = "letters, digits, space and - _ : ."


def is_printable(text: str) -> bool:
    """Cinder's printable pattern: no control/format characters (Unicode category C), no line or
    paragraph separators, and nothing outside the Basic Multilingual Plane."""
    for ch in text:
        if ord(ch) >= 0xFFFF:
            return False
        category = unicodedata.category(ch)
        if category.startswith("C") or (category.startswith("Z") and category != "Zs"):
            return False
    return True


def validate_length(value: str) -> None:
    if len(value) > MAX_LENGTH:
        raise ValidationError(
            "Cinder accepts at most %(max)d characters (this has %(n)d).",
            code="max_length",
            params={"max": MAX_LENGTH, "n": len(value)},
        )


def validate_name(value: str) -> None:
    """Names: up to 255 characters; Cinder has no character rule for them."""
    validate_length(value)


def validate_description(value: str) -> None:
    """Descriptions: up to 255 printable characters (no line breaks, tabs or other controls)."""
    validate_length(value)
    if not is_printable(value):
        raise ValidationError(
            "Cinder refuses line breaks, tabs and other control characters in a description.",
            code="not_printable",
        )


def validate_metadata_key(value: str, *, on_create: bool) -> None:
    pattern = CREATE_METADATA_KEY if on_create else METADATA_KEY
    if not value:
        raise ValidationError("A key is required.", code="required")
    validate_length(value)
    if not pattern.match(value):
        allowed = KEY_CHARS_HELP + (" and /" if on_create else "")
        extra = "" if on_create or "/" not in value else " (a slash is accepted only on create)"
        raise ValidationError(
            "Keys may contain only %(allowed)s%(extra)s.",
            code="bad_key",
            params={"allowed": allowed, "extra": extra},
        )


def validate_metadata_value(value: str) -> None:
    validate_length(value)
