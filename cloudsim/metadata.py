"""Cinder v3 snapshot metadata: the six metadata endpoints."""

from __future__ import annotations

import json

from .errors import bad_request, not_found
from .microversions import (
    Ctx,
)
from .store import dumps
from .validation import (
    METADATA_KEY,
    check_keys,
    check_metadata,
    invalid_input,
)


class Metadata:
    """Snapshot metadata endpoints."""

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
