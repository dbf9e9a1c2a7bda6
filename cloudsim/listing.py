"""Paging, sorting and markers shared by the snapshot and volume lists."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

import ast
from dataclasses import dataclass
from urllib.parse import urlencode

from .errors import bad_request, not_found
from .microversions import (
    Ctx,
)
from .validation import (
    MAX_LIMIT,
    NULLABLE_NUM,
    NULLABLE_TEXT,
    RESOURCE_FILTERS,
    bool_param,
)


def _whole(raw, not_a_number: str, negative: str) -> int:
    """A paging parameter as a whole number >= 0, refused with Cinder's own wording."""
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(not_a_number) from None
    if value < 0:
        raise bad_request(negative)
    return value


@dataclass(frozen=True)
class PageRequest:
    """What a list request asks for besides its filters."""

    pairs: list[tuple[str, str]]  # (sort key, direction)
    limit: int
    marker: str | None = None
    offset: int = 0
    show_count: bool = False


class Listing:
    """Paging, sorting and next links."""

    def _list_params(self, ctx: Ctx, params: dict) -> PageRequest:
        """The sort, paging and with_count parameters, taken out of `params`."""
        pairs = self._sort_params(params)
        limit, marker, offset = self._page_params(params)
        show_count = False
        if ctx.at_least(3, 45) and "with_count" in params:
            show_count = bool_param("with_count", params.pop("with_count"))
        return PageRequest(pairs, limit, marker, offset, show_count)

    def _page_params(self, params: dict) -> tuple[int, str | None, int]:
        raw_limit = params.pop("limit", None)
        limit = MAX_LIMIT
        if raw_limit is not None:
            limit = min(
                _whole(raw_limit, "limit param must be an integer", "limit param must be positive"),
                MAX_LIMIT,
            )
        marker = params.pop("marker", None)
        offset = _whole(
            params.pop("offset", 0), "offset must be an integer.", "offset must be >= 0"
        )
        if offset > 2147483647:
            raise bad_request("offset must be <= 2147483647.")
        return limit, marker, offset

    @staticmethod
    def _sort_params(params: dict) -> list[tuple[str, str]]:
        if "sort" in params and ("sort_key" in params or "sort_dir" in params):
            raise bad_request(
                "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used "
                "with the 'sort' parameter."
            )
        pairs: list[tuple[str, str]] = []
        if "sort" in params:
            for item in params.pop("sort").split(","):
                key, _, direction = item.strip().partition(":")
                pairs.append((key.strip(), (direction.strip() or "desc")))
        else:
            key = params.pop("sort_key", "created_at").strip()
            direction = params.pop("sort_dir", "desc").strip()
            pairs.append((key, direction))
        for _key, direction in pairs:
            if direction not in ("asc", "desc"):
                raise bad_request(
                    "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'."
                )
        return pairs

    @staticmethod
    def _sort_exprs(pairs, columns: dict[str, str], nullable: set[str] | frozenset[str]):
        exprs = []
        seen = set()
        for key, direction in pairs:
            col = columns.get(key)
            if col is None:
                raise bad_request("Invalid input received: Invalid sort key")
            if col in seen:
                continue
            seen.add(col)
            exprs.append((col, direction))
        first_dir = pairs[0][1] if pairs else "desc"
        for col in ("created_at", "id"):
            if col not in seen:
                exprs.append((col, first_dir))
        out = []
        for col, direction in exprs:
            if col in NULLABLE_TEXT and col in nullable:
                expr = f"COALESCE({col}, '')"
            elif col in NULLABLE_NUM and col in nullable:
                expr = f"COALESCE({col}, 0)"
            elif col in nullable:
                expr = f"COALESCE({col}, '')"
            else:
                expr = col
            out.append((col, expr, direction))
        return out

    @staticmethod
    def _marker_clause(sorts, marker_row) -> tuple[str, list]:
        values = []
        for col, _expr, _d in sorts:
            val = marker_row[col]
            if val is None:
                val = 0 if col in NULLABLE_NUM else ""
            values.append(val)
        # The first key's bound says nothing the full condition does not, but SQLite starts an
        # index range at it: without it, a page deep into an order kept by an index (snap_created,
        # snap_updated) reads every index entry above its marker.
        first_expr, first_dir = sorts[0][1], sorts[0][2]
        bound = f"{first_expr} {'<=' if first_dir == 'desc' else '>='} ? AND "
        dirs = {d for _c, _e, d in sorts}
        if len(dirs) == 1:
            op = "<" if dirs == {"desc"} else ">"
            exprs = ", ".join(e for _c, e, _d in sorts)
            marks = ", ".join("?" * len(sorts))
            return f"({bound}({exprs}) {op} ({marks}))", [values[0], *values]
        ors = []
        params: list = []
        for i, (_col, expr, direction) in enumerate(sorts):
            ands = [f"{sorts[j][1]} = ?" for j in range(i)]
            params.extend(values[:i])
            ands.append(f"{expr} {'<' if direction == 'desc' else '>'} ?")
            params.append(values[i])
            ors.append("(" + " AND ".join(ands) + ")")
        return "(" + bound + "(" + " OR ".join(ors) + "))", [values[0], *params]

    @staticmethod
    def _project_clause(ctx: Ctx, params: dict, all_tenants: bool) -> tuple[list[str], list]:
        """The start of a list's WHERE: the caller's project; with all_tenants (admins) every
        project, or the one `project_id` names."""
        project_filter = params.pop("project_id", None)
        if not all_tenants:
            return ["project_id = ?"], [ctx.project_id]
        if project_filter is not None:
            return ["project_id = ?"], [project_filter]
        return [], []

    @staticmethod
    def _metadata_clause(value: str, where: list[str], args: list) -> None:
        """A `metadata` filter (a dict literal): every key must hold that value."""
        try:
            meta = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            meta = value
        if not isinstance(meta, dict):
            where.append("0")
            return
        for mk, mv in meta.items():
            where.append("json_extract(metadata, ?) = ?")
            args.extend([f'$."{mk}"', str(mv)])

    def _page(
        self,
        ctx: Ctx,
        request: PageRequest,
        *,
        table: str,
        label: str,
        where: list[str],
        args: list,
        columns: dict[str, str],
        nullable: set[str] | frozenset[str],
    ) -> tuple[list, int | None]:
        """One page of `table` after the marker, and the count without it when asked."""
        cond = " AND ".join(where) or "1"
        count = None
        if request.show_count:
            count = self.store.q1(f"SELECT COUNT(*) FROM {table} WHERE {cond}", args)[0]
        mrow = None
        if request.marker is not None:  # read before the sort keys are checked, as cinder 29 does
            mrow = self.store.q1(f"SELECT * FROM {table} WHERE id = ?", (request.marker,))
            if mrow is None or (not ctx.is_admin and mrow["project_id"] != ctx.project_id):
                raise not_found(f"{label} {request.marker} could not be found.")
        sorts = self._sort_exprs(request.pairs, columns, nullable)
        if mrow is not None:
            clause, margs = self._marker_clause(sorts, mrow)
            where, args = [*where, clause], [*args, *margs]
        order = ", ".join(f"{e} {d.upper()}" for _c, e, d in sorts)
        cond = " AND ".join(where) or "1"
        sql = f"SELECT * FROM {table} WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?"
        return self.store.q(sql, (*args, request.limit, request.offset)), count

    def _page_body(
        self, ctx: Ctx, collection: str, items: list, rows: list, limit: int, count: int | None
    ) -> dict:
        """A list's answer: its items, a next link when the page is full, the count."""
        body: dict = {collection: items}
        if rows and limit <= (count if count is not None else len(rows)):
            body[f"{collection}_links"] = self._next_link(ctx, rows[-1]["id"])
        if count is not None:
            body["count"] = count
        return body

    def _next_link(self, ctx: Ctx, last_id: str) -> list[dict]:
        args = [(k, v) for k, v in ctx.req.args.items(multi=True) if k != "marker"]
        args.append(("marker", last_id))
        href = f"{ctx.base}{ctx.req.path}?{urlencode(args)}"
        return [{"rel": "next", "href": href}]

    def resource_filters(self, ctx: Ctx) -> tuple[int, dict]:
        if not ctx.at_least(3, 33):
            raise not_found("The resource could not be found.")
        config = dict(RESOURCE_FILTERS)
        config["snapshot"] = self.snapshot_filters()
        wanted = ctx.req.args.get("resource")
        items = [
            {"resource": name, "filters": filters}
            for name, filters in config.items()
            if wanted is None or name == wanted
        ]
        return 200, {"resource_filters": items}
