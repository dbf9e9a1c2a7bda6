"""An open tab's change stream read as a browser would (views/live_stream.py): the stamps it is
told and the comments, collected on a thread as they arrive."""

from __future__ import annotations

import threading
import time

import requests


class Tab:
    """An open stream, read on a thread: its events (stamps) and comments as they arrive."""

    def __init__(self, url: str, ticket: str, stamp: str = "") -> None:
        """Opens the stream at `url` with the page's ticket and the stamp the tab knows."""
        self.answer = requests.get(
            url, params={"v": stamp}, headers={"X-Live-Ticket": ticket},
            stream=True, timeout=(5, 30),
        )  # fmt: skip
        self.stamps: list[int] = []
        self.comments: list[str] = []
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.answer.iter_lines(chunk_size=None, decode_unicode=True):
                if line.startswith("data:"):
                    self.stamps.append(int(line[5:]))
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
        except (requests.RequestException, OSError, AttributeError):
            pass  # closed by the test (requests drops the socket under the reading thread)
        self.ended.set()

    def wait(self, count: int, timeout: float = 10) -> list[int]:
        deadline = time.monotonic() + timeout
        while len(self.stamps) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.stamps)

    def close(self) -> None:
        self.answer.close()
