"""The notification listener (services/listen.py) on a thread of its own, for the tests that
feed it a bus: the simulator's, a real Cinder's, or messages they publish themselves."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from snapshots.services import listen


@contextlib.contextmanager
def listening(url: str, seconds: float, connect_within: float = 15.0) -> Iterator[list[str]]:
    """Run the listener on `url` for `seconds`; yields its output lines once it is on the bus,
    and waits for it to stop on the way out."""
    lines: list[str] = []
    worker = threading.Thread(
        target=listen.listen, kwargs={"url": url, "stop_after": seconds, "out": lines.append}
    )
    worker.start()
    try:
        deadline = time.monotonic() + connect_within
        while not lines and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lines, f"the listener connected to {listen.safe_url(url)}"
        yield lines
    finally:
        worker.join()
