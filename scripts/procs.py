"""Child processes that never outlive their owner: start one in its own process group, wait
until it answers, stop it (SIGTERM to the group, a grace period, then SIGKILL to the group).

One helper for `make run` (scripts/stack.py), the simulator's test harness (cloudsim/testing.py),
the worker, production and fault suites and the benchmarks.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


class ProcessFailed(RuntimeError):
    """The process exited, or did not become ready in time. The message ends with its output."""


class Proc:
    """A child in its own session and process group, with its output kept (last `keep` lines).

    `echo` copies each output line to this process's stdout with a `[name]` prefix; `log` appends
    the output to a file as well. With `capture=False` the child writes to our stdout itself.
    """

    def __init__(
        self,
        name: str,
        cmd: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike = ROOT,
        capture: bool = True,
        echo: bool = False,
        log: str | os.PathLike | None = None,
        keep: int = 400,
    ) -> None:
        self.name = name
        self.cmd = cmd
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._seen = threading.Condition()
        self._count = 0
        self._done = not capture
        self._echo = echo
        self._log: IO[str] | None = open(log, "a", encoding="utf-8") if log else None  # noqa: SIM115
        self.popen = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.pid = self.popen.pid
        if capture:
            threading.Thread(target=self._read, name=f"read-{name}", daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            line = raw.rstrip("\n")
            with self._seen:
                self.lines.append(line)
                self._count += 1
                self._seen.notify_all()
            if self._echo:
                print(f"[{self.name}] {line}", flush=True)
            if self._log:
                self._log.write(raw)
                self._log.flush()
        with self._seen:
            self._done = True
            self._seen.notify_all()

    # --- state ---------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def output(self, last: int = 60) -> str:
        return "\n".join(list(self.lines)[-last:])

    def failed(self, what: str) -> ProcessFailed:
        state = "running" if self.alive() else f"exited with code {self.popen.returncode}"
        return ProcessFailed(f"{self.name} ({state}): {what}\n--- its output ---\n{self.output()}")

    # --- waiting -------------------------------------------------------------------------
    def wait_for_line(self, needle: str | Callable[[str], bool], timeout: float = 30) -> str:
        """The first output line (kept or still to come) containing `needle` (or matching it)."""
        match = needle if callable(needle) else (lambda line: needle in line)
        deadline = time.monotonic() + timeout
        checked = 0  # lines (counted since the start) already looked at
        with self._seen:
            while True:
                new = self._count - checked
                for line in list(self.lines)[-new:] if new else ():
                    if match(line):
                        return line
                checked = self._count
                if self._done:
                    raise self.failed(f"its output ended before a line with {needle!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self.failed(f"no line with {needle!r} within {timeout:.0f} s")
                self._seen.wait(min(left, 0.5))

    def count(self, needle: str) -> int:
        return sum(needle in line for line in list(self.lines))

    def wait_url(self, url: str, timeout: float = 30) -> None:
        wait_url(url, timeout, proc=self)

    def wait_port(self, port: int, host: str = "127.0.0.1", timeout: float = 30) -> None:
        wait_port(port, host, timeout, proc=self)

    # --- signals and stopping -------------------------------------------------------------
    def signal(self, sig: int) -> None:
        """Send `sig` to the whole process group (the child and what it started)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def terminate(self) -> None:
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM to the group, wait up to `grace` s, then SIGKILL to the group. Idempotent."""
        stop_all([self], grace)
        return self.popen.returncode

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` is left (zombies of ours excepted, once reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_all(procs: Iterable[Proc], grace: float = 10.0) -> None:
    """Stop several at once: SIGTERM to every group, one shared grace period, SIGKILL to the
    groups still there. Every group is gone on return (children that left it excepted)."""
    procs = list(procs)
    for proc in procs:
        if proc.alive() or group_alive(proc.pid):
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
    # The leader may be gone while what it started lingers in the group: wait for those too.
    while time.monotonic() < deadline and any(group_alive(p.pid) for p in procs):
        time.sleep(0.05)
    for proc in procs:
        if group_alive(proc.pid) or proc.alive():
            proc.kill()
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=10)
        if proc._log:
            proc._log.close()
            proc._log = None


def start(name: str, cmd: list[str], **kwargs) -> Proc:
    return Proc(name, cmd, **kwargs)


# --- waiting for servers ------------------------------------------------------------------
def wait_until(what: str, check: Callable[[], bool], timeout: float, proc: Proc | None = None):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if proc is not None and not proc.alive():
            raise proc.failed(f"exited while waiting for {what}")
        if time.monotonic() > deadline:
            if proc is not None:
                raise proc.failed(f"{what} not within {timeout:.0f} s")
            raise ProcessFailed(f"{what} not within {timeout:.0f} s")
        time.sleep(0.1)


def answers(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status `url` answers with (errors included), or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own URLs
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def wait_url(url: str, timeout: float = 30, proc: Proc | None = None) -> None:
    """Until `url` answers below 500."""
    wait_until(f"{url} answering", lambda: (answers(url) or 999) < 500, timeout, proc)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 30, proc: Proc | None = None):
    wait_until(f"{host}:{port} accepting", lambda: port_open(port, host), timeout, proc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
