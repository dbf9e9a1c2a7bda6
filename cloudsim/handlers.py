"""The base of the Cinder handler groups: state, policy, lookups, request bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import bad_request, forbidden, not_found
from .microversions import (
    Ctx,
)
from .store import Store
from .validation import (
    DEFAULT_SNAPSHOT_FILTERS,
    check_keys,
    invalid_input,
)

if TYPE_CHECKING:
    from .app import Simulator


class Handlers:
    """What every handler group needs: the state, policy, lookups and body parsing."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def store(self) -> Store:
        return self.sim.store

    def snapshot_filters(self) -> list[str]:
        filters = list(DEFAULT_SNAPSHOT_FILTERS)
        if self.sim.config.like_filters:
            filters += ["name~", "description~"]
        return filters

    # -- policy ------------------------------------------------------------------------------
    def authorize(self, ctx: Ctx, level: str, action: str, target_project: str) -> None:
        if ctx.is_admin:
            return
        if level == "admin":
            raise forbidden(action)
        need = "reader" if level == "reader" else "member"
        if need in ctx.roles and target_project == ctx.project_id:
            return
        raise forbidden(action)

    # -- lookups -----------------------------------------------------------------------------
    def get_snapshot_row(self, ctx: Ctx, sid: str):
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        if row is None or (not ctx.is_admin and row["project_id"] != ctx.project_id):
            raise not_found(f"Snapshot {sid} could not be found.")
        return row

    def get_volume_row(self, ctx: Ctx, vid: Any):
        row = None
        if isinstance(vid, str):
            row = self.store.q1("SELECT * FROM volumes WHERE id = ?", (vid,))
        if row is None or (not ctx.is_admin and row["project_id"] != ctx.project_id):
            raise not_found(f"Volume {vid} could not be found.")
        return row

    def _json_body(self, ctx: Ctx) -> Any:
        raw = ctx.req.get_data(as_text=True)
        if not raw:
            raise bad_request("The request body is empty or malformed.")
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request("Malformed request body") from None

    def _action_body(self, ctx: Ctx) -> tuple[str, Any]:
        """The one action a POST to .../action names, and its arguments."""
        body = self._json_body(ctx)
        if not isinstance(body, dict) or len(body) != 1:
            raise bad_request("Malformed request body")
        ((name, args),) = body.items()
        return name, args

    def _envelope(self, body: Any, key: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(body, dict):
            raise invalid_input("", f"Value: {body!r}. {body!r} is not of type 'object'")
        if key not in body:
            raise invalid_input("", f"'{key}' is a required property")
        check_keys("", body, (key,))
        inner = body[key]
        if not isinstance(inner, dict):
            raise invalid_input(key, f"Value: {inner!r}. {inner!r} is not of type 'object'")
        check_keys(key, inner, allowed)
        return inner
