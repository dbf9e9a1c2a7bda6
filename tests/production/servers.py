"""A Redis and a PostgreSQL of a suite's own, that it may stop, restart and kill (the fault
suite, the broker-restart test). Real servers from the system's packages (.ci/run installs
them); a suite that needs one fails when the binaries are missing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scripts import procs


class MissingServer(RuntimeError):
    pass


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise MissingServer("needs redis-server on PATH (.ci/run installs it)")
        self.binary = binary
        self.port = procs.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: procs.Proc | None = None

    def start(self) -> RedisServer:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        self.proc = procs.start("redis", [*cmd, "--save", "", "--appendonly", "no"])
        self.proc.wait_port(self.port, timeout=20)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(grace=10)

    def restart(self) -> None:
        self.stop()
        self.start()


class PostgresServer:
    """initdb + pg_ctl on a free port (as the `postgres` user when run as root, as initdb
    requires), trust authentication on loopback, fsync off."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        binary = found[-1] if found else shutil.which("pg_ctl") or ""
        if not binary:
            raise MissingServer("needs PostgreSQL's pg_ctl and initdb (.ci/run installs them)")
        self.bin = Path(binary).parent
        self.port = procs.free_port()
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            self.dir.chmod(0o755)
            shutil.chown(self.dir, "postgres")

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_postgres:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", subprocess.list2cmdline(cmd)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}")

    def _options(self) -> str:
        return (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c shared_buffers=32MB -c max_connections=100"
        )

    def start(self) -> PostgresServer:
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", log, "-o", self._options(), "start")
        return self

    def restart(self) -> None:
        log = str(self.dir / "server.log")  # not our pipe: the server outlives pg_ctl
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "-l", log, "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
