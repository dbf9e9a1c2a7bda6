"""Showing cloud-controlled strings (names, descriptions, metadata) so what you read is what is
stored: characters that reorder or hide text are shown as visible markers, and the value flagged.

A snapshot named "report\u202egpj.exe" displays as "reportexe.jpg" in a browser: U+202E reverses
what follows. Here it displays as "report⟨U+202E⟩gpj.exe", the marker in a highlighted span, and
the whole value marked "contains hidden characters". Same for the other bidi controls, control
characters (a trailing CR LF TAB) and zero-width characters.

- `{{ value|reveal }}`: HTML (escaped, with marked spans) for page content and table cells;
  `reveal_html()` is the same for Python code that builds cells.
- `{{ value|reveal_text }}`: plain text with ⟨U+XXXX⟩ markers, for places that cannot hold
  markup (<title>, <option>, attributes such as title= and aria-label=).

Exports keep the stored value: a CSV/JSON/XLSX must carry the data, not its display.
"""

from __future__ import annotations

import re
import unicodedata

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = "\u200b\u2060\ufeff"  # zero-width space, word joiner, BOM
_HIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI}{INVISIBLE}]")


def _marker(char: str) -> str:
    return f"\u27e8U+{ord(char):04X}\u27e9"


def _describe(char: str) -> str:
    return unicodedata.name(char, "control character").title()


def has_hidden(value: object) -> bool:
    return value is not None and bool(_HIDDEN.search(str(value)))


def reveal_text(value: object) -> str:
    """The value with every hidden character replaced by a visible ⟨U+XXXX⟩ marker."""
    if value is None:
        return ""
    return _HIDDEN.sub(lambda m: _marker(m.group()), str(value))


def reveal_html(value: object) -> SafeString:
    """Escaped HTML of the value; hidden characters as marked spans and the value flagged."""
    if value is None:
        return SafeString("")
    text = str(value)
    if not _HIDDEN.search(text):
        return escape(text)
    parts: list[str] = []
    last = 0
    for match in _HIDDEN.finditer(text):
        parts.append(escape(text[last : match.start()]))
        char = match.group()
        parts.append(
            format_html(
                '<span class="hidden-char" title="{}">{}</span>', _describe(char), _marker(char)
            )
        )
        last = match.end()
    parts.append(escape(text[last:]))
    return format_html(
        '<span class="has-hidden-chars" title="Contains hidden or reordering characters">'
        '<i class="bi bi-exclamation-triangle-fill" aria-hidden="true"></i>'
        '<span class="visually-hidden">Contains hidden characters: </span>{}</span>',
        mark_safe("".join(parts)),  # noqa: S308 - every piece above is escaped
    )


@register.filter(name="reveal", is_safe=True)
def reveal_filter(value):
    return reveal_html(value)


@register.filter(name="reveal_text")
def reveal_text_filter(value):
    return reveal_text(value)
