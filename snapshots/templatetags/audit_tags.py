"""Template tags of the audit pages: the audit events of one snapshot, for its detail page.

The detail page includes templates/audit/partials/snapshot_audit.html with `snapshot` in its
context; the partial asks this tag, which checks the signed-in user's scope itself (one query,
none when the user may not see the events).
"""

from __future__ import annotations

from django import template

from snapshots.selectors.audit import may_see_history, snapshot_events

register = template.Library()


@register.simple_tag(takes_context=True)
def snapshot_audit_events(context, snapshot) -> dict:
    """{"allowed": bool, "events": [...]} for `snapshot`, as the signed-in user may see it."""
    scope = context.get("scope")
    if scope is None:
        request = context.get("request")
        scope = getattr(request, "scope", None)
    allowed = snapshot is not None and may_see_history(scope, snapshot.project_id)
    events = snapshot_events(scope, snapshot) if allowed else []
    return {"allowed": allowed, "events": events}
