"""Paging, sorting and markers shared by the snapshot and volume lists."""

from __future__ import annotations

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
)


class Listing:
    """Paging, sorting and next links."""

    def _page_params(self, params: dict) -> tuple[int, str | None, int]:
        raw_limit = params.pop("limit", None)
        limit = MAX_LIMIT
        if raw_limit is not None:
            try:
                limit = int(raw_limit)
            except ValueError:
                raise bad_request("limit param must be an integer") from None
            if limit < 0:
                raise bad_request("limit param must be positive")
            limit = min(limit, MAX_LIMIT)
        marker = params.pop("marker", None)
        raw_offset = params.pop("offset", 0)
        try:
            offset = int(raw_offset)
        except ValueError:
            raise bad_request("offset must be an integer.") from None
        if offset < 0:
            raise bad_request("offset must be >= 0")
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
    def _sort_exprs(pairs, columns: dict[str, str], nullable: set[str]):
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
        dirs = {d for _c, _e, d in sorts}
        if len(dirs) == 1:
            op = "<" if dirs == {"desc"} else ">"
            exprs = ", ".join(e for _c, e, _d in sorts)
            marks = ", ".join("?" * len(sorts))
            return f"({exprs}) {op} ({marks})", values
        ors = []
        params: list = []
        for i, (_col, expr, direction) in enumerate(sorts):
            ands = [f"{sorts[j][1]} = ?" for j in range(i)]
            params.extend(values[:i])
            ands.append(f"{expr} {'<' if direction == 'desc' else '>'} ?")
            params.append(values[i])
            ors.append("(" + " AND ".join(ands) + ")")
        return "(" + " OR ".join(ors) + ")", params

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
