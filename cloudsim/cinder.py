"""Cinder v3: snapshots, snapshot metadata and actions, volumes, limits."""

# SQL text here is only ever assembled from fixed column and table names (whitelists);
# every value goes through a ? parameter.
# ruff: noqa: S608

from __future__ import annotations

import ast
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from . import MAX_VERSION, MIN_VERSION, notify
from .errors import SimError, bad_request, forbidden, not_found
from .store import SNAPSHOT_COLUMNS, Store, dumps, iso, stable_id

if TYPE_CHECKING:
    from .app import Simulator

SNAPSHOT_STATUSES = (
    "creating",
    "available",
    "error",
    "deleting",
    "error_deleting",
    "deleted",
    "updating",
    "unmanaging",
    "backing-up",
    "restoring",
)
BOOL_TRUE = (True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t")
BOOL_FALSE = (
    False,
    "False",
    "FALSE",
    "false",
    "0",
    "OFF",
    "Off",
    "off",
    "NO",
    "No",
    "no",
    "n",
    "f",
)
TRUTHY = {"1", "t", "true", "on", "y", "yes"}
FALSY = {"0", "f", "false", "off", "n", "no"}
MAX_LIMIT = 1000
DEFAULT_SNAPSHOT_FILTERS = (
    "name",
    "status",
    "volume_id",
    "metadata",
    "availability_zone",
    "consumes_quota",
)
RESOURCE_FILTERS = {
    "volume": [
        "name",
        "status",
        "metadata",
        "bootable",
        "migration_status",
        "availability_zone",
        "group_id",
        "size",
        "created_at",
        "updated_at",
        "consumes_quota",
    ],
    "backup": ["name", "status", "volume_id"],
    "snapshot": list(DEFAULT_SNAPSHOT_FILTERS),
    "group": ["name"],
    "group_snapshot": ["name", "status", "group_id"],
    "attachment": ["volume_id", "status", "instance_id", "attach_status"],
    "message": ["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
    "pool": ["name", "volume_type"],
    "volume_type": ["is_public", "extra_specs"],
}
DEFAULT_VOLUME_FILTERS = (
    "name",
    "status",
    "metadata",
    "bootable",
    "migration_status",
    "availability_zone",
    "group_id",
    "size",
    "created_at",
    "updated_at",
    "consumes_quota",
)
CREATE_META_KEY = re.compile(r"^[a-zA-Z0-9\-_:. /]{1,255}$")
METADATA_KEY = re.compile(r"^[a-zA-Z0-9\-_:. ]{1,255}$")
# The patterns as cinder 29's schema states them in its error messages.
PATTERN_TEXT = {
    CREATE_META_KEY: "^[a-zA-Z0-9-_:. /]{1,255}$",
    METADATA_KEY: "^[a-zA-Z0-9-_:. ]{1,255}$",
}
VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
NULLABLE_TEXT = {
    "user_id",
    "cgsnapshot_id",
    "group_snapshot_id",
    "progress",
    "display_name",
    "display_description",
    "encryption_key_id",
    "volume_type_id",
    "provider_location",
    "provider_id",
    "provider_auth",
}
NULLABLE_NUM = {"updated_at", "deleted_at", "scheduled_at"}
VOLUME_SORT = {
    "id": "id",
    "name": "display_name",
    "display_name": "display_name",
    "size": "size",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "availability_zone": "availability_zone",
    "project_id": "project_id",
    "user_id": "user_id",
    "bootable": "bootable",
    "volume_type": "volume_type",
}


# fields.SnapshotStatus.ALL, in cinder's order, as its reset-status refusal prints it
RESET_STATUS_ORDER = (
    "error",
    "available",
    "creating",
    "deleting",
    "deleted",
    "updating",
    "error_deleting",
    "unmanaging",
    "backing-up",
    "restoring",
)


def parse_version_text(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


MIN_V = parse_version_text(MIN_VERSION)
MAX_V = parse_version_text(MAX_VERSION)


def vstr(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def is_printable(text: str) -> bool:
    for ch in text:
        if ord(ch) >= 0xFFFF:
            return False
        cat = unicodedata.category(ch)
        if cat.startswith("C") or (cat.startswith("Z") and cat != "Zs"):
            return False
    return True


def is_boolean_like(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, str) and value in BOOL_TRUE + BOOL_FALSE


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.hex == value.replace("-", "").lower()


def invalid_input(field: str, detail: str) -> SimError:
    return bad_request(f"Invalid input for field/attribute {field}. {detail}")


def check_nullable_string(field: str, value: Any, *, printable: bool = False) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise invalid_input(field, f"Value: {value!r}. {value!r} is not of type 'string', 'null'")
    if len(value) > 255:
        raise invalid_input(field, f"Value: {value}. {value!r} is too long")
    if printable and not is_printable(value):
        raise invalid_input(
            field, f"Value: {value}. {value!r} does not match the printable-characters pattern"
        )


def check_metadata(field: str, value: Any, pattern: re.Pattern, allow_null: bool) -> None:
    if value is None and allow_null:
        return
    if not isinstance(value, dict):
        raise invalid_input(field, f"Value: {value!r}. {value!r} is not of type 'object'")
    for key, val in value.items():
        if not pattern.match(key):
            # cinder 29's wording (jsonschema patternProperties), field `metadata` or `meta`
            raise invalid_input(
                field,
                f"Value: {value!r}. {key!r} does not match any of the regexes: "
                f"'{PATTERN_TEXT[pattern]}'",
            )
        # a value is checked under its own key's name, as cinder 29 reports it
        if not isinstance(val, str):
            raise invalid_input(key, f"Value: {val!r}. {val!r} is not of type 'string'")
        if len(val) > 255:
            raise invalid_input(key, f"Value: {val}. {val!r} is too long")


def check_keys(field: str, body: dict, allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        shown = ", ".join(repr(k) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise invalid_input(
            field, f"Additional properties are not allowed ({shown} {verb} unexpected)"
        )


def bool_param(name: str, value: str) -> bool:
    low = str(value).strip().lower()
    if low in TRUTHY:
        return True
    if low in FALSY:
        return False
    raise bad_request(f"Value '{value}' for parameter '{name}' is not a valid boolean.")


@dataclass
class Ctx:
    req: Request
    user_id: str
    project_id: str
    roles: list[str]
    is_admin: bool
    version: tuple[int, int]
    base: str

    def at_least(self, major: int, minor: int) -> bool:
        return self.version >= (major, minor)


def parse_microversion(header: str | None) -> tuple[int, int]:
    """The requested version, or a SimError exactly as Cinder 29 answers."""
    if header is None:
        return MIN_V
    requested = None
    for part in header.split(","):
        if "volume" in part:
            pieces = part.split()
            if len(pieces) != 2:
                raise bad_request(
                    f"API Version String {part.strip()} is of invalid format. Must be of format "
                    "MajorNum.MinorNum."
                )
            requested = pieces[1]
            break
    if not requested:
        raise bad_request("API version None is not supported on this method.")
    if requested == "latest":
        return MAX_V
    match = VERSION_RE.match(requested)
    if not match:
        raise bad_request(
            f"API Version String {requested} is of invalid format. Must be of format "
            "MajorNum.MinorNum."
        )
    version = (int(match.group(1)), int(match.group(2)))
    if version < MIN_V or version > MAX_V:
        headers = {}
        if version > MAX_V:
            headers = {
                "OpenStack-API-Version": f"volume {vstr(version)}",
                "Vary": "OpenStack-API-Version",
            }
        raise SimError(
            406,
            f"Version {vstr(version)} is not supported by the API. Minimum is {MIN_VERSION} "
            f"and maximum is {MAX_VERSION}.",
            key="computeFault",
            headers=headers,
        )
    return version


def versions_doc(base: str, prefix: str = "/volume") -> dict:
    return {
        "versions": [
            {
                "id": "v3.0",
                "status": "CURRENT",
                "version": MAX_VERSION,
                "min_version": MIN_VERSION,
                "updated": "2023-08-31T00:00:00Z",
                "links": [
                    {
                        "rel": "describedby",
                        "type": "text/html",
                        "href": "https://docs.openstack.org/",
                    },
                    {"rel": "self", "href": f"{base}{prefix}/v3/"},
                ],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.volume+json;version=3",
                    }
                ],
            }
        ]
    }


class Cinder:
    """The handlers. Every public method runs under the store lock and returns (status, body)."""

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

    # -- views -------------------------------------------------------------------------------
    def progress(self, row) -> str | None:
        if (
            row["status"] == "creating"
            and row["due_at"] is not None
            and "creating" not in self.store.stuck
        ):
            span = row["due_at"] - row["created_at"]
            done = self.store.now() - row["created_at"]
            pct = 99 if span <= 0 else int(max(0.0, min(0.99, done / span)) * 100)
            return f"{pct}%"
        return row["progress"]

    def snapshot_view(self, row, ctx: Ctx, kind: str) -> dict:
        out = {
            "id": row["id"],
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "name": row["display_name"],
            "description": row["display_description"],
            "volume_id": row["volume_id"],
            "status": row["status"],
            "size": row["volume_size"],
            "metadata": json.loads(row["metadata"]),
        }
        if kind != "summary":
            if ctx.at_least(3, 14):
                out["group_snapshot_id"] = row["group_snapshot_id"]
            if ctx.at_least(3, 41):
                out["user_id"] = row["user_id"]
            if ctx.at_least(3, 65):
                out["consumes_quota"] = bool(row["use_quota"])
        if kind in ("detail", "show"):
            out["os-extended-snapshot-attributes:project_id"] = row["project_id"]
            out["os-extended-snapshot-attributes:progress"] = self.progress(row)
        return out

    def volume_link(self, ctx: Ctx, vid: str) -> list[dict]:
        return [
            {"rel": "self", "href": f"{ctx.base}/volume/v3/{ctx.project_id}/volumes/{vid}"},
            {"rel": "bookmark", "href": f"{ctx.base}/volume/{ctx.project_id}/volumes/{vid}"},
        ]

    def volume_view(self, row, ctx: Ctx, kind: str) -> dict:
        if kind == "summary":
            return {
                "id": row["id"],
                "name": row["display_name"],
                "links": self.volume_link(ctx, row["id"]),
            }
        attachments = []
        if row["attached_to"]:
            attachments.append(
                {
                    "id": row["id"],
                    "attachment_id": stable_id("attachment", row["id"]),
                    "volume_id": row["id"],
                    "server_id": row["attached_to"],
                    "host_name": None,
                    "device": "/dev/vdb",
                    "attached_at": iso(row["created_at"]),
                }
            )
        out = {
            "id": row["id"],
            "name": row["display_name"],
            "description": row["display_description"],
            "status": row["status"],
            "size": row["size"],
            "availability_zone": row["availability_zone"],
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "attachments": attachments,
            "bootable": "true" if row["bootable"] else "false",
            "encrypted": False,
            "multiattach": bool(row["multiattach"]),
            "metadata": json.loads(row["metadata"]),
            "snapshot_id": row["snapshot_id"],
            "source_volid": None,
            "volume_type": row["volume_type"],
            "user_id": row["user_id"],
            "consistencygroup_id": None,
            "replication_status": None,
            "migration_status": row["migration_status"],
            "links": self.volume_link(ctx, row["id"]),
            "os-vol-tenant-attr:tenant_id": row["project_id"],
        }
        if ctx.is_admin:
            out["os-vol-host-attr:host"] = row["host"]
            out["os-vol-mig-status-attr:migstat"] = row["migration_status"]
            out["os-vol-mig-status-attr:name_id"] = None
        if ctx.at_least(3, 13):
            out["group_id"] = None
        if ctx.at_least(3, 21):
            out["provider_id"] = None
        if ctx.at_least(3, 48):
            out["shared_targets"] = False
            out["service_uuid"] = stable_id("service", "cinder-volume")
        if ctx.at_least(3, 61):
            out["cluster_name"] = None
        if ctx.at_least(3, 63):
            out["volume_type_id"] = stable_id("volume_type", row["volume_type"])
        if ctx.at_least(3, 65):
            out["consumes_quota"] = bool(row["use_quota"])
        if kind == "create":
            out.pop("os-vol-host-attr:host", None)
        return out

    # -- listing machinery -------------------------------------------------------------------
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

    # -- snapshot list -----------------------------------------------------------------------
    def _snapshot_filters(self, ctx: Ctx, params: dict) -> tuple[list[str], list]:
        """WHERE clauses (and their parameters) for a snapshot list."""
        all_tenants_raw = params.pop("all_tenants", None)
        all_tenants = False
        if all_tenants_raw is not None and ctx.is_admin:
            all_tenants = str(all_tenants_raw).strip().lower() in TRUTHY
        if ctx.at_least(3, 31):
            if not ctx.is_admin:
                configured = self.snapshot_filters()
                invalid = [k for k in params if k not in configured]
                if invalid:
                    raise bad_request(
                        f"Invalid filters {', '.join(invalid)} are found in query options."
                    )
        else:
            if not ctx.at_least(3, 22):
                params.pop("metadata", None)
            params.pop("consumes_quota", None)
            if not ctx.is_admin:
                for key in list(params):
                    if key not in ("status", "volume_id", "name", "metadata"):
                        del params[key]
        if not ctx.at_least(3, 65):
            params.pop("consumes_quota", None)

        where: list[str] = []
        args: list = []
        project_filter = params.pop("project_id", None)
        if all_tenants:
            if project_filter is not None:
                where.append("project_id = ?")
                args.append(project_filter)
        else:
            where.append("project_id = ?")
            args.append(ctx.project_id)
        like = ctx.at_least(3, 34)
        for key, value in params.items():
            if key == "name":
                where.append("display_name = ?")
                args.append(value)
            elif key == "metadata":
                try:
                    meta = ast.literal_eval(value)
                except (ValueError, SyntaxError):
                    meta = value
                if not isinstance(meta, dict):
                    where.append("0")
                    continue
                for mk, mv in meta.items():
                    where.append("json_extract(metadata, ?) = ?")
                    args.extend([f'$."{mk}"', str(mv)])
            elif key == "availability_zone":
                where.append("volume_id IN (SELECT id FROM volumes WHERE availability_zone = ?)")
                args.append(value)
            elif key in ("consumes_quota", "use_quota"):
                where.append("use_quota = ?")
                args.append(1 if bool_param(key, value) else 0)
            elif key == "host" and ctx.is_admin:
                where.append("volume_id IN (SELECT id FROM volumes WHERE host = ?)")
                args.append(value)
            elif like and key in ("name~", "description~", "display_name~", "display_description~"):
                col = "display_name" if "name" in key else "display_description"
                where.append(f"{col} LIKE ? ESCAPE '\\'")
                esc = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                args.append(f"%{esc}%")
            elif key in SNAPSHOT_COLUMNS and key not in NULLABLE_NUM and key != "created_at":
                where.append(f"{key} = ?")
                args.append(value)
            else:
                # an admin filter on something that is not a column matches nothing
                where.append("0")
        return where, args

    def list_snapshots(self, ctx: Ctx, detail: bool) -> tuple[int, dict]:
        self.authorize(ctx, "reader", "volume:get_all_snapshots", ctx.project_id)
        params = ctx.req.args.to_dict(flat=True)
        pairs = self._sort_params(params)
        limit, marker, offset = self._page_params(params)
        show_count = False
        if ctx.at_least(3, 45) and "with_count" in params:
            show_count = bool_param("with_count", params.pop("with_count"))
        columns = {c: c for c in SNAPSHOT_COLUMNS}
        if ctx.at_least(3, 30):
            columns["name"] = "display_name"
        where, args = self._snapshot_filters(ctx, params)
        base_where = list(where)
        base_args = list(args)
        # cinder 29 reads the marker (a snapshot GET: its 404) before it checks the sort keys
        mrow = None
        if marker is not None:
            mrow = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (marker,))
            if mrow is None or (not ctx.is_admin and mrow["project_id"] != ctx.project_id):
                raise not_found(f"Snapshot {marker} could not be found.")
        sorts = self._sort_exprs(pairs, columns, NULLABLE_TEXT | NULLABLE_NUM)
        if mrow is not None:
            clause, margs = self._marker_clause(sorts, mrow)
            where.append(clause)
            args.extend(margs)
        order = ", ".join(f"{e} {d.upper()}" for _c, e, d in sorts)
        sql = "SELECT * FROM snapshots"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self.store.q(sql, (*args, limit, offset))
        kind = "detail" if detail else "summary"
        body: dict = {"snapshots": [self.snapshot_view(r, ctx, kind) for r in rows]}
        count = None
        if show_count:
            csql = "SELECT COUNT(*) FROM snapshots"
            if base_where:
                csql += " WHERE " + " AND ".join(base_where)
            count = self.store.q1(csql, base_args)[0]
        if rows and limit <= (count if count is not None else len(rows)):
            body["snapshots_links"] = self._next_link(ctx, rows[-1]["id"])
        if count is not None:
            body["count"] = count
        return 200, body

    # -- snapshot CRUD -----------------------------------------------------------------------
    def show_snapshot(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "reader", "volume:get_snapshot", row["project_id"])
        return 200, {"snapshot": self.snapshot_view(row, ctx, "show")}

    def _json_body(self, ctx: Ctx) -> Any:
        raw = ctx.req.get_data(as_text=True)
        if not raw:
            raise bad_request("The request body is empty or malformed.")
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request("Malformed request body") from None

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

    def create_snapshot(self, ctx: Ctx) -> tuple[int, dict]:
        snap = self._envelope(
            self._json_body(ctx),
            "snapshot",
            ("name", "display_name", "description", "volume_id", "force", "metadata"),
        )
        if "volume_id" not in snap:
            raise invalid_input("snapshot", "'volume_id' is a required property")
        vid = snap["volume_id"]
        if vid is not None and not is_uuid(vid):
            raise invalid_input("volume_id", f"Value: {vid!r}. {vid!r} is not a 'uuid'")
        check_nullable_string("name", snap.get("name"))
        check_nullable_string("display_name", snap.get("display_name"))
        check_nullable_string("description", snap.get("description"), printable=True)
        if "force" in snap and not is_boolean_like(snap["force"]):
            raise invalid_input(
                "force", f"Value: {snap['force']!r}. is not one of the allowed boolean values"
            )
        check_metadata("metadata", snap.get("metadata"), CREATE_META_KEY, allow_null=True)

        vol = self.get_volume_row(ctx, vid)
        force = False
        if snap.get("force") is not None:
            force = snap["force"] is True or (
                isinstance(snap["force"], str) and snap["force"] in BOOL_TRUE
            )
            if ctx.at_least(3, 66) and not force:
                raise bad_request(
                    "Since microversion 3.66 the 'force' flag is invalid for this request.  "
                    "For backward compatability, however, when the 'force' flag is passed with "
                    "a value evaluating to True, it is silently ignored."
                )
        self.authorize(ctx, "member", "volume:create_snapshot", vol["project_id"])
        allowed = ["available"]
        if force or ctx.at_least(3, 66):
            allowed.append("in-use")
        status = vol["status"]
        if status in ("maintenance", "error") or status.startswith("replica_"):
            raise bad_request(
                f"Invalid volume: Volume {vid} status must be {', '.join(allowed)}, but current "
                f"status is: {status}"
            )
        if status not in allowed:
            raise bad_request(
                f"Invalid volume: Volume {vid} status must be {', '.join(allowed)}, but current "
                f"status is: {status}"
            )
        if not vol["host"]:
            raise bad_request(
                f"Invalid volume: The snapshot cannot be created because volume "
                f"{vid} is not scheduled to a host."
            )
        if vol["migration_status"] not in (None, "success", "error"):
            raise bad_request(f"Invalid volume: Volume {vid} is migrating.")
        self.check_snapshot_quota(ctx.project_id, vol["size"])

        name = snap["name"] if "name" in snap else snap.get("display_name")
        desc = snap.get("description")
        name = name.strip() if isinstance(name, str) else name
        desc = desc.strip() if isinstance(desc, str) else desc
        now = self.store.now()
        sid = str(uuid.uuid4())
        outcome = "available"
        if self.sim.chance("create_error_rate"):
            outcome = "error"
        due = now + self.sim.config.create_delay
        self.store.x(
            "INSERT INTO snapshots (id, created_at, updated_at, user_id, project_id, volume_id, "
            "status, progress, volume_size, display_name, display_description, use_quota, "
            "metadata, due_at, due_status) VALUES (?, ?, NULL, ?, ?, ?, 'creating', '0%', ?, ?, ?, "
            "1, ?, ?, ?)",
            (
                sid,
                now,
                ctx.user_id,
                ctx.project_id,
                vid,
                vol["size"],
                name,
                desc,
                dumps(snap.get("metadata") or {}),
                due,
                outcome,
            ),
        )
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        notify.emit(self.sim, "snapshot", row, "create.start")
        return 202, {"snapshot": self.snapshot_view(row, ctx, "create")}

    def check_snapshot_quota(self, project_id: str, size: int) -> None:
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (project_id,))
        if proj is None:
            return
        if proj["snapshot_quota"] >= 0:
            used = self.store.q1(
                "SELECT COUNT(*) FROM snapshots WHERE project_id = ? AND use_quota = 1",
                (project_id,),
            )[0]
            if used + 1 > proj["snapshot_quota"]:
                raise SimError(
                    413,
                    f"Maximum number of snapshots allowed ({proj['snapshot_quota']}) exceeded",
                    headers={"Retry-After": "0"},
                )
        self.check_gigabytes(proj, size, "snapshot")

    def check_gigabytes(self, proj, size: int, what: str) -> None:
        if proj["gigabytes_quota"] < 0:
            return
        used = self.gigabytes_used(proj["id"])
        if used + size > proj["gigabytes_quota"]:
            raise SimError(
                413,
                f"Requested volume or snapshot exceeds allowed gigabytes quota. Requested "
                f"{size}G, quota is {proj['gigabytes_quota']}G and {used}G has been consumed.",
                headers={"Retry-After": "0"},
            )

    def gigabytes_used(self, project_id: str) -> int:
        vols = self.store.q1(
            "SELECT COALESCE(SUM(size), 0) FROM volumes WHERE project_id = ? AND use_quota = 1",
            (project_id,),
        )[0]
        snaps = self.store.q1(
            "SELECT COALESCE(SUM(volume_size), 0) FROM snapshots WHERE project_id = ? "
            "AND use_quota = 1",
            (project_id,),
        )[0]
        return int(vols + snaps)

    def update_snapshot(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        upd = self._envelope(
            self._json_body(ctx),
            "snapshot",
            ("name", "description", "display_name", "display_description"),
        )
        if not upd:
            raise invalid_input(
                "snapshot",
                "Value: {}. {} is not valid under any of the given schemas",
            )
        check_nullable_string("name", upd.get("name"))
        check_nullable_string("display_name", upd.get("display_name"))
        check_nullable_string("description", upd.get("description"), printable=True)
        check_nullable_string("display_description", upd.get("display_description"), printable=True)
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "member", "volume:update_snapshot", row["project_id"])
        clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in upd.items()}
        sets: dict[str, Any] = {}
        if "display_name" in clean:
            sets["display_name"] = clean["display_name"]
        if "name" in clean:
            sets["display_name"] = clean["name"]
        if "display_description" in clean:
            sets["display_description"] = clean["display_description"]
        if "description" in clean:
            sets["display_description"] = clean["description"]
        sets["updated_at"] = self.store.now()
        assign = ", ".join(f"{k} = ?" for k in sets)
        notify.emit(self.sim, "snapshot", row, "update.start")
        self.store.x(f"UPDATE snapshots SET {assign} WHERE id = ?", (*sets.values(), sid))
        row = self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))
        notify.emit(self.sim, "snapshot", row, "update.end")
        return 200, {"snapshot": self.snapshot_view(row, ctx, "update")}

    def _snapshot_now(self, sid: str):
        return self.store.q1("SELECT * FROM snapshots WHERE id = ?", (sid,))

    def _volume_now(self, vid: str):
        return self.store.q1("SELECT * FROM volumes WHERE id = ?", (vid,))

    def _start_delete(self, sid: str, status: str = "deleting") -> None:
        now = self.store.now()
        outcome = "error_deleting" if self.sim.chance("delete_error_rate") else "gone"
        self.store.x(
            "UPDATE snapshots SET status = ?, updated_at = ?, due_at = ?, due_status = ? "
            "WHERE id = ?",
            (status, now, now + self.sim.config.delete_delay, outcome, sid),
        )
        notify.emit(self.sim, "snapshot", self._snapshot_now(sid), "delete.start")

    def delete_snapshot(self, ctx: Ctx, sid: str) -> tuple[int, None]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "member", "volume:delete_snapshot", row["project_id"])
        if row["status"] not in ("available", "error") or row["group_snapshot_id"]:
            raise bad_request(
                "Invalid snapshot: Snapshot status must be available or error and must not be "
                "part of a group."
            )
        self._start_delete(sid)
        return 202, None

    # -- metadata ----------------------------------------------------------------------------
    def _meta_row(self, ctx: Ctx, sid: str, write: str | None):
        row = self.get_snapshot_row(ctx, sid)
        if write:
            self.authorize(ctx, "member", write, row["project_id"])
        else:
            self.authorize(ctx, "reader", "volume:get_snapshot_metadata", row["project_id"])
        return row, json.loads(row["metadata"])

    def _save_meta(self, sid: str, meta: dict) -> None:
        self.store.x(
            "UPDATE snapshots SET metadata = ?, updated_at = ? WHERE id = ?",
            (dumps(meta), self.store.now(), sid),
        )

    def _meta_body(self, ctx: Ctx, key: str) -> dict:
        body = self._json_body(ctx)
        if not isinstance(body, dict) or key not in body:
            raise bad_request("Malformed request body")
        check_keys("", body, (key,))
        check_metadata(key, body[key], METADATA_KEY, allow_null=False)
        return body[key]

    def get_metadata(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        _row, meta = self._meta_row(ctx, sid, None)
        return 200, {"metadata": meta}

    def merge_metadata(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        new = self._meta_body(ctx, "metadata")
        _row, meta = self._meta_row(ctx, sid, "volume:update_snapshot_metadata")
        meta.update(new)
        self._save_meta(sid, meta)
        return 200, {"metadata": meta}

    def replace_metadata(self, ctx: Ctx, sid: str) -> tuple[int, dict]:
        new = self._meta_body(ctx, "metadata")
        self._meta_row(ctx, sid, "volume:update_snapshot_metadata")
        self._save_meta(sid, new)
        return 200, {"metadata": new}

    def get_metadata_item(self, ctx: Ctx, sid: str, key: str) -> tuple[int, dict]:
        _row, meta = self._meta_row(ctx, sid, None)
        if key not in meta:
            raise not_found(f"Snapshot {sid} has no metadata with key {key}.")
        return 200, {"meta": {key: meta[key]}}

    def set_metadata_item(self, ctx: Ctx, sid: str, key: str) -> tuple[int, dict]:
        item = self._meta_body(ctx, "meta")
        if len(item) > 1:
            raise invalid_input("meta", f"Value: {item!r}. {item!r} has too many properties")
        if key not in item:
            raise bad_request("Request body and URI mismatch")
        _row, meta = self._meta_row(ctx, sid, "volume:update_snapshot_metadata")
        meta[key] = item[key]
        self._save_meta(sid, meta)
        return 200, {"meta": {key: item[key]}}

    def delete_metadata_item(self, ctx: Ctx, sid: str, key: str) -> tuple[int, None]:
        _row, meta = self._meta_row(ctx, sid, "volume:delete_snapshot_metadata")
        if key not in meta:
            raise not_found(f"Snapshot {sid} has no metadata with key {key}.")
        del meta[key]
        self._save_meta(sid, meta)
        return 200, None

    # -- actions -----------------------------------------------------------------------------
    def snapshot_action(self, ctx: Ctx, sid: str) -> tuple[int, None]:
        body = self._json_body(ctx)
        if not isinstance(body, dict) or len(body) != 1:
            raise bad_request("Malformed request body")
        ((name, args),) = body.items()
        handler = {
            "os-reset_status": self._reset_status,
            "os-update_snapshot_status": self._update_status,
            "os-force_delete": self._force_delete,
            "os-unmanage": self._unmanage,
        }.get(name)
        if handler is None:
            raise bad_request(
                f"There is no such action: {name}. Verify the request body and Content-Type "
                "header and try again."
            )
        return handler(ctx, sid, args)

    def _reset_status(self, ctx: Ctx, sid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict):
            raise invalid_input("os-reset_status", f"Value: {args!r}. is not of type 'object'")
        check_keys("os-reset_status", args, ("status",))
        status = args.get("status")
        if not isinstance(status, str) or status.lower() not in SNAPSHOT_STATUSES:
            raise bad_request(
                f"Snapshot status: {status} is invalid, valid statuses are: {RESET_STATUS_ORDER}."
            )
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(
            ctx, "admin", "volume_extension:snapshot_admin_actions:reset_status", row["project_id"]
        )
        notify.emit(self.sim, "snapshot", row, "reset_status.start")
        self.store.x(
            "UPDATE snapshots SET status = ?, updated_at = ?, due_at = NULL, due_status = NULL "
            "WHERE id = ?",
            (status.lower(), self.store.now(), sid),
        )
        notify.emit(self.sim, "snapshot", self._snapshot_now(sid), "reset_status.end")
        return 202, None

    def _update_status(self, ctx: Ctx, sid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict):
            raise invalid_input(
                "os-update_snapshot_status", f"Value: {args!r}. is not of type 'object'"
            )
        check_keys("os-update_snapshot_status", args, ("status", "progress"))
        status = args.get("status")
        if not isinstance(status, str):
            raise invalid_input("status", f"Value: {status!r}. is not of type 'string'")
        progress = args.get("progress")
        if "progress" in args:
            ok = isinstance(progress, str)
            if ok and progress:
                try:
                    pct = int(progress[:-1])
                    ok = progress.endswith("%") and 0 <= pct <= 100
                except ValueError:
                    ok = False
            if not ok:
                raise bad_request(
                    "Invalid input received: progress must be an integer percentage between "
                    "0 and 100"
                )
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(
            ctx,
            "member",
            "snapshot_extension:snapshot_actions:update_snapshot_status",
            row["project_id"],
        )
        rules = {
            "creating": ("creating", "available", "error"),
            "deleting": ("deleting", "error_deleting"),
        }
        current = row["status"]
        if current not in rules:
            raise bad_request(f"Snapshot status {current} not allowed for update_snapshot_status")
        if status not in rules[current]:
            raise bad_request(
                f"Provided snapshot status {status} not allowed for snapshot with status {current}."
            )
        sets = {
            "status": status,
            "updated_at": self.store.now(),
            "due_at": None,
            "due_status": None,
        }
        if progress:
            sets["progress"] = progress
        elif current == "creating" and row["due_at"] is not None:
            sets["progress"] = self.progress(row)
        assign = ", ".join(f"{k} = ?" for k in sets)
        self.store.x(f"UPDATE snapshots SET {assign} WHERE id = ?", (*sets.values(), sid))
        return 202, None

    def _force_delete(self, ctx: Ctx, sid: str, _args: Any) -> tuple[int, None]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(
            ctx, "admin", "volume_extension:snapshot_admin_actions:force_delete", row["project_id"]
        )
        if row["group_snapshot_id"] or row["cgsnapshot_id"]:
            raise bad_request(
                "Invalid snapshot: Snapshot status must be available or error and must not be "
                "part of a group."
            )
        self._start_delete(sid)
        return 202, None

    def _unmanage(self, ctx: Ctx, sid: str, _args: Any) -> tuple[int, None]:
        row = self.get_snapshot_row(ctx, sid)
        self.authorize(ctx, "admin", "snapshot_extension:snapshot_unmanage", row["project_id"])
        if row["status"] not in ("available", "error") or row["group_snapshot_id"]:
            raise bad_request(
                "Invalid snapshot: Snapshot status must be available or error and must not be "
                "part of a group."
            )
        self._start_delete(sid, status="unmanaging")
        return 202, None

    # -- volumes -----------------------------------------------------------------------------
    def list_volumes(self, ctx: Ctx, detail: bool) -> tuple[int, dict]:
        self.authorize(ctx, "reader", "volume:get_all", ctx.project_id)
        params = ctx.req.args.to_dict(flat=True)
        pairs = self._sort_params(params)
        limit, marker, offset = self._page_params(params)
        show_count = False
        if ctx.at_least(3, 45) and "with_count" in params:
            show_count = bool_param("with_count", params.pop("with_count"))
        all_tenants_raw = params.pop("all_tenants", None)
        all_tenants = bool(
            ctx.is_admin
            and all_tenants_raw is not None
            and str(all_tenants_raw).strip().lower() in TRUTHY
        )
        if ctx.at_least(3, 31) and not ctx.is_admin:
            invalid = [k for k in params if k not in DEFAULT_VOLUME_FILTERS]
            if invalid:
                raise bad_request(
                    f"Invalid filters {', '.join(invalid)} are found in query options."
                )
        where: list[str] = []
        args: list = []
        project_filter = params.pop("project_id", None)
        if all_tenants:
            if project_filter is not None:
                where.append("project_id = ?")
                args.append(project_filter)
        else:
            where.append("project_id = ?")
            args.append(ctx.project_id)
        for key, value in params.items():
            if key in ("name", "display_name"):
                where.append("display_name = ?")
                args.append(value)
            elif key in (
                "status",
                "availability_zone",
                "id",
                "user_id",
                "volume_type",
                "migration_status",
            ):
                where.append(f"{key} = ?")
                args.append(value)
            elif key == "size":
                where.append("size = ?")
                args.append(value)
            elif key == "bootable":
                where.append("bootable = ?")
                args.append(1 if bool_param(key, value) else 0)
            elif key == "metadata":
                try:
                    meta = ast.literal_eval(value)
                except (ValueError, SyntaxError):
                    meta = value
                if not isinstance(meta, dict):
                    where.append("0")
                    continue
                for mk, mv in meta.items():
                    where.append("json_extract(metadata, ?) = ?")
                    args.extend([f'$."{mk}"', str(mv)])
            elif key in ("consumes_quota", "group_id", "created_at", "updated_at"):
                if key == "consumes_quota":
                    where.append("use_quota = ?")
                    args.append(1 if bool_param(key, value) else 0)
                elif key == "group_id":
                    where.append("0")
            else:
                where.append("0")
        base_where, base_args = list(where), list(args)
        mrow = None
        if marker is not None:  # read before the sort keys are checked, as cinder 29 does
            mrow = self.store.q1("SELECT * FROM volumes WHERE id = ?", (marker,))
            if mrow is None or (not ctx.is_admin and mrow["project_id"] != ctx.project_id):
                raise not_found(f"Volume {marker} could not be found.")
        sorts = self._sort_exprs(pairs, VOLUME_SORT, {"display_name", "updated_at", "user_id"})
        if mrow is not None:
            clause, margs = self._marker_clause(sorts, mrow)
            where.append(clause)
            args.extend(margs)
        order = ", ".join(f"{e} {d.upper()}" for _c, e, d in sorts)
        cond = " AND ".join(where) or "1"
        sql = f"SELECT * FROM volumes WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self.store.q(sql, (*args, limit, offset))
        body: dict = {
            "volumes": [self.volume_view(r, ctx, "detail" if detail else "summary") for r in rows]
        }
        count = None
        if show_count:
            count = self.store.q1(
                f"SELECT COUNT(*) FROM volumes WHERE {' AND '.join(base_where)}", base_args
            )[0]
        if rows and limit <= (count if count is not None else len(rows)):
            body["volumes_links"] = self._next_link(ctx, rows[-1]["id"])
        if count is not None:
            body["count"] = count
        return 200, body

    def show_volume(self, ctx: Ctx, vid: str) -> tuple[int, dict]:
        row = self.get_volume_row(ctx, vid)
        self.authorize(ctx, "reader", "volume:get", row["project_id"])
        return 200, {"volume": self.volume_view(row, ctx, "detail")}

    def create_volume(self, ctx: Ctx) -> tuple[int, dict]:
        vol = self._envelope(
            self._json_body(ctx),
            "volume",
            (
                "size",
                "name",
                "display_name",
                "description",
                "display_description",
                "metadata",
                "availability_zone",
                "volume_type",
                "snapshot_id",
                "source_volid",
                "imageRef",
                "backup_id",
                "consistencygroup_id",
                "group_id",
                "multiattach",
                "scheduler_hints",
            ),
        )
        self.authorize(ctx, "member", "volume:create", ctx.project_id)
        check_nullable_string("name", vol.get("name"))
        check_nullable_string("description", vol.get("description"), printable=True)
        check_metadata("metadata", vol.get("metadata"), CREATE_META_KEY, allow_null=True)
        size = vol.get("size")
        snap_row = None
        if vol.get("snapshot_id") is not None:
            snap_row = self.get_snapshot_row(ctx, vol["snapshot_id"])
            if snap_row["status"] != "available":
                raise bad_request(
                    f"Invalid snapshot: Originating snapshot status must be one of 'available' "
                    f"values (current status: {snap_row['status']})"
                )
            if size is None:
                size = snap_row["volume_size"]
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise invalid_input("size", f"Value: {size!r}. is not a valid volume size")
        if snap_row is not None and size < snap_row["volume_size"]:
            raise bad_request(
                f"Invalid input received: Volume size '{size}'GB cannot be smaller than the "
                f"snapshot size {snap_row['volume_size']}GB. They must be >= original snapshot "
                "size."
            )
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (ctx.project_id,))
        if proj is not None:
            self.check_gigabytes(proj, size, "volume")
        name = vol.get("name", vol.get("display_name"))
        desc = vol.get("description", vol.get("display_description"))
        now = self.store.now()
        vid = str(uuid.uuid4())
        outcome = "error" if self.sim.chance("create_error_rate") else "available"
        self.store.x(
            "INSERT INTO volumes (id, project_id, user_id, display_name, display_description, "
            "size, status, availability_zone, volume_type, host, created_at, metadata, "
            "snapshot_id, multiattach, due_at, due_status) VALUES (?, ?, ?, ?, ?, ?, 'creating', "
            "?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                vid,
                ctx.project_id,
                ctx.user_id,
                name.strip() if isinstance(name, str) else name,
                desc.strip() if isinstance(desc, str) else desc,
                size,
                vol.get("availability_zone") or "nova",
                vol.get("volume_type") or "__DEFAULT__",
                "cloudsim@lvm#lvm",
                now,
                dumps(vol.get("metadata") or {}),
                vol.get("snapshot_id"),
                1 if vol.get("multiattach") else 0,
                now + self.sim.config.create_delay,
                outcome,
            ),
        )
        row = self.store.q1("SELECT * FROM volumes WHERE id = ?", (vid,))
        notify.emit(self.sim, "volume", row, "create.start")
        return 202, {"volume": self.volume_view(row, ctx, "create")}

    def delete_volume(self, ctx: Ctx, vid: str) -> tuple[int, None]:
        row = self.get_volume_row(ctx, vid)
        self.authorize(ctx, "member", "volume:delete", row["project_id"])
        cascade = bool_param("cascade", ctx.req.args.get("cascade", "false"))
        force = bool_param("force", ctx.req.args.get("force", "false"))
        deletable = ("available", "error", "error_restoring", "error_extending", "error_managing")
        if not force and (row["status"] not in deletable or row["attached_to"]):
            raise bad_request(
                "Invalid volume: Volume status must be available or error or error_restoring or "
                "error_extending or error_managing and must not be migrating, attached, belong "
                "to a group, have snapshots, awaiting a transfer, or be disassociated from "
                "snapshots after volume transfer."
            )
        snaps = self.store.q("SELECT id, status FROM snapshots WHERE volume_id = ?", (vid,))
        if snaps and not cascade:
            raise bad_request(
                "Invalid volume: Volume status must be available or error or error_restoring or "
                "error_extending or error_managing and must not be migrating, attached, belong "
                "to a group, have snapshots, awaiting a transfer, or be disassociated from "
                "snapshots after volume transfer."
            )
        if cascade:
            for snap in snaps:
                if snap["status"] not in ("available", "error"):
                    raise bad_request(
                        "Invalid volume: Snapshot status must be available or "
                        "error to delete the volume with cascade."
                    )
            for snap in snaps:
                self._start_delete(snap["id"])
        now = self.store.now()
        outcome = "error_deleting" if self.sim.chance("delete_error_rate") else "gone"
        self.store.x(
            "UPDATE volumes SET status = 'deleting', updated_at = ?, due_at = ?, due_status = ? "
            "WHERE id = ?",
            (now, now + self.sim.config.delete_delay, outcome, vid),
        )
        notify.emit(self.sim, "volume", self._volume_now(vid), "delete.start")
        return 202, None

    # -- limits ------------------------------------------------------------------------------
    def limits(self, ctx: Ctx) -> tuple[int, dict]:
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (ctx.project_id,))
        pid = ctx.project_id
        snaps = self.store.q1(
            "SELECT COUNT(*) FROM snapshots WHERE project_id = ? AND use_quota = 1", (pid,)
        )[0]
        vols = self.store.q1(
            "SELECT COUNT(*) FROM volumes WHERE project_id = ? AND use_quota = 1", (pid,)
        )[0]
        return 200, {
            "limits": {
                "rate": [],
                "absolute": {
                    "maxTotalVolumes": proj["volume_quota"] if proj else -1,
                    "maxTotalSnapshots": proj["snapshot_quota"] if proj else -1,
                    "maxTotalVolumeGigabytes": proj["gigabytes_quota"] if proj else -1,
                    "maxTotalBackups": 10,
                    "maxTotalBackupGigabytes": 1000,
                    "totalVolumesUsed": vols,
                    "totalSnapshotsUsed": snaps,
                    "totalGigabytesUsed": self.gigabytes_used(pid),
                    "totalBackupsUsed": 0,
                    "totalBackupGigabytesUsed": 0,
                },
            }
        }

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

    # -- volume actions ----------------------------------------------------------------------
    def volume_action(self, ctx: Ctx, vid: str) -> tuple[int, None]:
        body = self._json_body(ctx)
        if not isinstance(body, dict) or len(body) != 1:
            raise bad_request("Malformed request body")
        ((name, args),) = body.items()
        if name == "revert" and ctx.at_least(3, 40):
            return self._revert(ctx, vid, args)
        if name == "os-reset_status":
            return self._volume_reset_status(ctx, vid, args)
        raise bad_request(
            f"There is no such action: {name}. Verify the request body and Content-Type "
            "header and try again."
        )

    def _revert(self, ctx: Ctx, vid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict) or not is_uuid(args.get("snapshot_id")):
            raise invalid_input("revert", "'snapshot_id' is a required property")
        check_keys("revert", args, ("snapshot_id",))
        vol = self.get_volume_row(ctx, vid)
        self.authorize(ctx, "member", "volume:revert_to_snapshot", vol["project_id"])
        snap = self.get_snapshot_row(ctx, args["snapshot_id"])
        latest = self.store.q1(
            "SELECT id FROM snapshots WHERE volume_id = ? ORDER BY created_at DESC, id DESC "
            "LIMIT 1",
            (vid,),
        )
        if snap["volume_id"] != vid or latest is None or latest["id"] != snap["id"]:
            raise bad_request(
                f"Invalid snapshot: Snapshot {snap['id']} is not the latest one of volume {vid}."
            )
        if snap["volume_size"] != vol["size"]:
            raise bad_request(
                "Invalid volume: Volume size must be equal to the snapshot size to revert."
            )
        if vol["status"] != "available" or snap["status"] != "available":
            raise SimError(
                409,
                f"Invalid volume: Volume {vid} status must be available, snapshot "
                f"{snap['id']} status must be available to revert.",
            )
        now = self.store.now()
        due = now + self.sim.config.create_delay
        self.store.x(
            "UPDATE volumes SET status = 'reverting', updated_at = ?, due_at = ?, "
            "due_status = 'available' WHERE id = ?",
            (now, due, vid),
        )
        self.store.x(
            "UPDATE snapshots SET status = 'restoring', updated_at = ?, due_at = ?, "
            "due_status = 'available' WHERE id = ?",
            (now, due, snap["id"]),
        )
        notify.emit(self.sim, "volume", self._volume_now(vid), "revert.start")
        return 202, None

    def _volume_reset_status(self, ctx: Ctx, vid: str, args: Any) -> tuple[int, None]:
        if not isinstance(args, dict) or not isinstance(args.get("status"), str):
            raise invalid_input("os-reset_status", "'status' is a required property")
        vol = self.get_volume_row(ctx, vid)
        self.authorize(
            ctx, "admin", "volume_extension:volume_admin_actions:reset_status", vol["project_id"]
        )
        status = args["status"].lower()
        if status == "in-use" and not vol["attached_to"]:
            raise bad_request(
                "Invalid volume: Cannot reset the status to in-use: the volume does not have "
                "any attachments."
            )
        self.store.x(
            "UPDATE volumes SET status = ?, updated_at = ?, due_at = NULL, due_status = NULL "
            "WHERE id = ?",
            (status, self.store.now(), vid),
        )
        return 202, None
