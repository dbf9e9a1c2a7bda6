"""`{% snapshot_actions scope snapshot as acts %}`: the action buttons this user gets here.

Views put `acts` in the context themselves where they can; this tag serves the templates
rendered per row or per live fragment, and only hands over what
`eligibility.permitted_actions` decided (one place, no query).
"""

from __future__ import annotations

from django import template

from snapshots.permissions import Scope
from snapshots.services.eligibility import PermittedActions, permitted_actions

register = template.Library()


@register.simple_tag(takes_context=True)
def snapshot_actions(context, scope, snapshot) -> PermittedActions:
    if not isinstance(scope, Scope):  # a partial rendered without the request's context
        scope = getattr(context.get("request"), "dashboard_scope", None)
    if not hasattr(snapshot, "project_id"):
        snapshot = None
    return permitted_actions(scope if isinstance(scope, Scope) else None, snapshot)
