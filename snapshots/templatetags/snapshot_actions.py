"""`{% snapshot_actions scope snapshot as acts %}`: which action buttons this user gets here.

Buttons a user may not use are not shown (permissions.can per object); a delete Cinder would
refuse because of the status is shown disabled with the reason. Pure: no query per row.
"""

from __future__ import annotations

from django import template

from snapshots.permissions import Action, Scope, can
from snapshots.services.snapshots import allowed_set_statuses, why_not_deletable

register = template.Library()


@register.simple_tag(takes_context=True)
def snapshot_actions(context, scope, snapshot) -> dict:
    if not isinstance(scope, Scope):  # a partial rendered without the request's context
        scope = getattr(context.get("request"), "scope", None)
    if not isinstance(scope, Scope) or snapshot is None or not hasattr(snapshot, "project_id"):
        return {"any": False}
    project = snapshot.project_id
    live = snapshot.deleted_at is None
    acts = {
        "edit": live and can(scope, Action.EDIT, project),
        "delete": live and can(scope, Action.DELETE, project),
        "delete_reason": why_not_deletable(snapshot),
        "force_delete": live and can(scope, Action.FORCE_DELETE, project),
        "reset_status": live and can(scope, Action.RESET_STATUS, project),
        "set_status": live
        and can(scope, Action.SET_STATUS, project)
        and bool(allowed_set_statuses(snapshot.status)),
    }
    acts["admin"] = acts["force_delete"] or acts["reset_status"] or acts["set_status"]
    acts["any"] = acts["edit"] or acts["delete"] or acts["admin"]
    return acts
