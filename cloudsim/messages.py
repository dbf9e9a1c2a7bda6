"""Cinder v3 user messages (3.3+): what went wrong with an asynchronous request.

The simulator writes one when it fails a create on purpose (the `create_error_rate` fault), with
the resource type, event id and text cinder's message fields give that failure.
"""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

from .errors import not_found
from .microversions import Ctx
from .store import iso

MESSAGE_FILTERS = ("resource_uuid", "resource_type", "event_id", "request_id", "message_level")
MESSAGE_SORT = {
    "id": "id",
    "resource_type": "resource_type",
    "event_id": "event_id",
    "resource_uuid": "resource_uuid",
    "message_level": "message_level",
    "created_at": "created_at",
    "request_id": "request_id",
}


class Messages:
    """GET /messages, GET and DELETE /messages/{id}."""

    def message_view(self, ctx: Ctx, row) -> dict:
        out = {
            "id": row["id"],
            "message_level": row["message_level"],
            "event_id": row["event_id"],
            "user_message": row["user_message"],
            "created_at": iso(row["created_at"]),
            "guaranteed_until": iso(row["expires_at"]),
            "request_id": row["request_id"],
            "links": self.resource_links(ctx, "messages", row["id"]),
        }
        # cinder/api/v3/views/messages.py: the resource keys only when they are set
        for key in ("resource_type", "resource_uuid"):
            if row[key]:
                out[key] = row[key]
        return out

    def _messages_supported(self, ctx: Ctx) -> None:
        if not ctx.at_least(3, 3):
            raise not_found("The resource could not be found.")

    def _message_row(self, ctx: Ctx, mid: str):
        row = self.store.q1(
            "SELECT * FROM messages WHERE id = ? AND expires_at > ?", (mid, self.store.now())
        )
        if row is None or (not ctx.is_admin and row["project_id"] != ctx.project_id):
            raise not_found(f"Message {mid} could not be found.")
        return row

    def list_messages(self, ctx: Ctx) -> tuple[int, dict]:
        self._messages_supported(ctx)
        self.authorize(ctx, "reader", "message:get_all", ctx.project_id)
        params = ctx.req.args.to_dict(flat=True)
        pairs = self._sort_params(params) if ctx.at_least(3, 5) else [("created_at", "desc")]
        limit, marker, offset = self._page_params(params)
        where = ["expires_at > ?"]
        args: list = [self.store.now()]
        if not ctx.is_admin:  # cinder's project_only query: admins see every project's
            where.append("project_id = ?")
            args.append(ctx.project_id)
        for key in MESSAGE_FILTERS:
            if key in params:
                where.append(f"{key} = ?")
                args.append(params[key])
        mrow = None
        if marker is not None:
            mrow = self._message_row(ctx, marker)
        sorts = self._sort_exprs(pairs, MESSAGE_SORT, {"resource_uuid", "request_id"})
        if mrow is not None:
            clause, margs = self._marker_clause(sorts, mrow)
            where.append(clause)
            args.extend(margs)
        order = ", ".join(f"{e} {d.upper()}" for _c, e, d in sorts)
        rows = self.store.q(
            f"SELECT * FROM messages WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        body: dict = {"messages": [self.message_view(ctx, r) for r in rows]}
        if rows and ctx.at_least(3, 5) and len(rows) >= limit:
            body["messages_links"] = self._next_link(ctx, rows[-1]["id"])
        return 200, body

    def show_message(self, ctx: Ctx, mid: str) -> tuple[int, dict]:
        self._messages_supported(ctx)
        row = self._message_row(ctx, mid)
        self.authorize(ctx, "reader", "message:get", row["project_id"])
        return 200, {"message": self.message_view(ctx, row)}

    def delete_message(self, ctx: Ctx, mid: str) -> tuple[int, None]:
        self._messages_supported(ctx)
        row = self._message_row(ctx, mid)
        self.authorize(ctx, "member", "message:delete", row["project_id"])
        self.store.x("DELETE FROM messages WHERE id = ?", (mid,))
        return 204, None
