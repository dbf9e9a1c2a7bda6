"""Template filters of the audit pages. They format what the view put in the context; they
read nothing and check nothing themselves."""

from __future__ import annotations

from django import template

from snapshots.tables.audit import OUTCOME_BADGE

register = template.Library()


@register.filter
def outcome_badge(outcome: str) -> str:
    """The Bootstrap colour of an audit outcome's badge."""
    return OUTCOME_BADGE.get(outcome, "secondary")
