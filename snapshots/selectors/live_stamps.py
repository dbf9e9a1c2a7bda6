"""The versions of the rows open tabs watch, shared by every check a web process answers.

Each tab asks "did my rows change?" twice a second. Reading the rows for each check costs one
query per check, so two hundred tabs cost four hundred queries a second. Instead each process
keeps the versions of every row some tab asked about lately and reads them all with one query
at most every LIVE_STAMP_REFRESH_SECONDS: the database sees a few queries a second per process,
whatever the number of tabs, and a change reaches a tab at most that much later.

A row a process has not read yet is read before the answer (a new tab, a reloaded page), so the
first answer is never made up; a row nobody asked about for KEEP seconds is forgotten.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection

from snapshots.models import Snapshot

KEEP = 30.0  # seconds a watched row stays in the shared read after its last check
LIMIT = 20_000  # rows read together at most; beyond it, each check reads its own rows
CHUNK = 1_000  # ids per query, below every database's parameter limit


def read_versions(ids: Iterable[str]) -> dict[str, int]:
    """The mirror's version of each of these rows that exists (by primary key).

    Plain SQL: the ORM's queryset and compiler cost twice the query itself for a few hundred
    ids, several times a second in every web process."""
    ids = list(ids)
    quote = connection.ops.quote_name
    meta = Snapshot._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    version = quote(meta.get_field("version").column)
    # Only the model's own names, quoted, are formatted in; the ids go as parameters.
    select = f"SELECT {pk}, {version} FROM {table} WHERE {pk} IN "  # noqa: S608
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            cursor.execute(select + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
            found.update(cursor.fetchall())
    return found


class SharedStamps:
    """Per process: the watched rows' versions, read together at most once per period.

    Threads answering checks read the current dict without a lock; the one thread that finds it
    older than the period reads it again (the others wait for that read, so a burst of checks
    after a quiet spell still costs one query) and replaces it whole.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._reading = threading.Lock()
        self._asked: dict[str, float] = {}
        self._versions: dict[str, int] = {}
        self._read_at = float("-inf")

    @property
    def period(self) -> float:
        return settings.LIVE_STAMP_REFRESH_SECONDS

    def clear(self) -> None:
        with self._reading:
            self._asked, self._versions, self._read_at = {}, {}, float("-inf")

    def stamp(self, ids: list[str]) -> int:
        """The sum of these rows' versions (0 for a row the mirror does not hold), as of at
        most one period ago."""
        if self.period <= 0:
            versions = read_versions(ids)
        else:
            now = self.clock()
            asked = self._asked
            for pk in ids:
                asked[pk] = now
            read_at = self._read_at  # before the dict: a read replaces the dict first
            versions = self._versions
            if now - read_at >= self.period or any(pk not in versions for pk in ids):
                versions = self._read(ids)
        return sum(versions.get(pk, 0) for pk in ids)

    def _read(self, ids: list[str]) -> dict[str, int]:
        with self._reading:
            begun = self.clock()
            versions = self._versions
            if begun - self._read_at < self.period and all(pk in versions for pk in ids):
                return versions  # another thread read them while this one waited
            horizon = begun - KEEP
            asked = self._asked.copy()
            watched = {pk for pk, at in asked.items() if at >= horizon}
            watched.update(ids)
            for pk in asked.keys() - watched:
                self._asked.pop(pk, None)
            if len(watched) > LIMIT:
                return read_versions(ids)  # too many rows to share: this check reads its own
            found = read_versions(watched)
            self._versions = {pk: found.get(pk, 0) for pk in watched}
            self._read_at = begun  # the read began then: no change before it is missed
            return self._versions


shared_stamps = SharedStamps()
