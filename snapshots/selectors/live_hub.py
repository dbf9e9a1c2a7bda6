"""Open tabs told when their rows change, by one read per process for all of them.

A process serving live streams (views/live_stream.py) keeps, for every open stream, the rows
its tab watches and the last stamp it told it (the sum of the rows' `version` counters, which
only grow). Every LIVE_STAMP_REFRESH_SECONDS, while at least one stream is open, one query reads
the versions of every watched row; each stream whose stamp grew is woken and writes the new
stamp. Two hundred open tabs therefore cost the database a few small queries a second and the
process a few sums: nothing per tab while nothing changes.

The query runs on one thread of its own (Django's database connections are per thread and
blocking), so the event loop that holds the streams never waits on the database. A failed read
is logged and tried again next period, on a fresh connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from snapshots.selectors.live_stamps import read_versions

log = logging.getLogger(__name__)


class Watcher:
    """One open stream: the rows it watches, the stamp its tab knows, and what wakes it."""

    __slots__ = ("closed", "ids", "known", "wake")

    def __init__(self, ids: list[str], known: int) -> None:
        self.ids = ids
        self.known = known  # the newest stamp the tab was told (or said it had)
        self.wake = asyncio.Event()
        self.closed = False  # the client went away, or the process is stopping

    def close(self) -> None:
        self.closed = True
        self.wake.set()


def asked_stamp(value: str) -> int:
    """The stamp a tab says it has; any stamp is news to a tab with none (-1)."""
    try:
        return int(value)
    except ValueError:
        return -1


class Hub:
    """Per process: the open streams and the one reader that serves them all."""

    def __init__(self, read: Callable[[Iterable[str]], dict[str, int]] = read_versions) -> None:
        self.read = read
        self.watchers: set[Watcher] = set()
        self._reader: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.reads = 0  # queries made, for tests and the benchmark

    @property
    def period(self) -> float:
        return max(settings.LIVE_STAMP_REFRESH_SECONDS, 0.05)

    def join(self, ids: list[str], asked: str) -> Watcher:
        watcher = Watcher(ids, asked_stamp(asked))
        self.watchers.add(watcher)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._run())
        return watcher

    def leave(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def close_all(self) -> None:
        """The process is stopping: every stream ends (its tab reconnects elsewhere)."""
        for watcher in list(self.watchers):
            watcher.close()

    def _read_on_thread(self, ids: set[str]) -> dict[str, int]:
        try:
            return self.read(ids)
        except Exception:
            connection.close()  # this thread's connection: the next read opens a fresh one
            raise

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-read")
        failing = False
        while self.watchers:
            begun = loop.time()
            watched = set().union(*(w.ids for w in self.watchers))
            try:
                versions = await loop.run_in_executor(self._executor, self._read_on_thread, watched)
            except Exception as exc:  # the database is away: try again next period
                if not failing:
                    log.warning("live streams could not read the watched rows: %s", exc)
                failing = True
            else:
                failing = False
                self.reads += 1
                for watcher in list(self.watchers):
                    current = sum(versions.get(pk, 0) for pk in watcher.ids)
                    if current > watcher.known:
                        watcher.known = current
                        watcher.wake.set()
            await asyncio.sleep(max(0.0, begun + self.period - loop.time()))


hub = Hub()
