"""The production shape, run for real: what docker-compose.yml and the Dockerfile run, with their
own commands, from a virtualenv built from requirements.txt alone, on a real PostgreSQL and a
real Redis, against the cloud simulator.

Used by the production-shape suite (tests/production), the fault suite (tests/faults) and the
load test (bench/load). The commands come from the YAML and the Dockerfile; only two things
are translated, because this runs on a shared machine and not in a container: the bind
addresses (`0.0.0.0:8000`; the live service's `--host 0.0.0.0 --port N`) become free loopback
ports, and paths under `/app/` (the image's work dir) go to a scratch directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from scripts import procs

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements.txt"
LONG_RUNNING = ("web", "live", "worker", "beat")
IMAGE_DIR = "/app/"
IMAGE_BIND = "0.0.0.0:8000"
IMAGE_HOST = "0.0.0.0"  # uvicorn's --host (the live service)


# --- the virtualenv production installs -------------------------------------------------------
def base_python() -> str:
    """The interpreter the image uses (python:3.11), or failing that the one running this."""
    return shutil.which("python3.11") or sys.executable


def venv_key() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    version = subprocess.run(
        [base_python(), "-c", "import sys; print(sys.version)"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    digest.update(version.encode())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "snapshot-dashboard"
    return Path(os.environ.get("DASHBOARD_PRODUCTION_CACHE", default))


def production_venv() -> Path:
    """A virtualenv with requirements.txt and nothing else, built once per (requirements.txt,
    Python) and reused from the cache after that."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"venv-{venv_key()}"
    done = venv / ".complete"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([base_python(), "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True, timeout=900)
            done.write_text(REQUIREMENTS.read_text())
    return venv


# --- what compose and the Dockerfile say --------------------------------------------------------
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_commands() -> dict[str, list[str]]:
    """The command of every service built from our image (migrate, web, worker, beat)."""
    services = compose()["services"]
    return {
        name: list(spec["command"])
        for name, spec in services.items()
        if "command" in spec and spec.get("build") and "profiles" not in spec
    }


_VAR = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}`."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group("name", "op", "arg")
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise KeyError(f"{name} must be set: {arg}")
        return arg or ""

    return _VAR.sub(one, value)


def compose_environment(variables: dict[str, str]) -> dict[str, str]:
    """The app services' environment (the `x-app` anchor), with `.env`-style `variables`."""
    env = compose()["x-app"]["environment"]
    return {key: interpolate(str(value), variables) for key, value in env.items()}


@dataclass
class Dockerfile:
    env: dict[str, str]
    collectstatic_env: dict[str, str]
    collectstatic: list[str]
    cmd: list[str]


def dockerfile() -> Dockerfile:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    static_env: dict[str, str] = {}
    static: list[str] = []
    cmd: list[str] = []
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
        elif word == "RUN" and "collectstatic" in rest:
            first = rest.split("&&")[0]
            for item in shlex.split(first):
                if "=" in item and not static:
                    key, _, value = item.partition("=")
                    static_env[key] = value
                else:
                    static.append(item)
        elif word == "CMD":
            cmd = json.loads(rest)
    return Dockerfile(env, static_env, static, cmd)


# --- the servers it needs ---------------------------------------------------------------------
def require_servers() -> tuple[str, str]:
    """DATABASE_URL (PostgreSQL) and REDIS_URL from the environment, both answering. These
    suites fail, never skip, without them: `.ci/run` starts both."""
    import psycopg
    import redis

    db = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("REDIS_URL", "")
    if not db.startswith(("postgres://", "postgresql://")) or not broker.startswith("redis://"):
        raise RuntimeError(
            "needs a real PostgreSQL and Redis: set DATABASE_URL=postgres://... and "
            "REDIS_URL=redis://... (.ci/run does)"
        )
    try:
        psycopg.connect(db, connect_timeout=5).close()
    except psycopg.Error as exc:
        raise RuntimeError(f"DATABASE_URL is set but PostgreSQL does not answer: {exc}") from exc
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"REDIS_URL is set but Redis does not answer: {exc}") from exc
    return db, broker


class ScratchDatabase:
    """A database of its own on the PostgreSQL server of `server_url`, dropped afterwards."""

    def __init__(self, server_url: str, prefix: str = "prodshape") -> None:
        parts = urlsplit(server_url)
        self.name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def query(self, sql: str, *params: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=10) as conn:
            return conn.execute(sql, params).fetchall()

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def redis_db(url: str, number: int) -> str:
    """The same Redis server, database `number` (so a run does not meet another's keys)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


# --- the stack ---------------------------------------------------------------------------------
@dataclass
class ProductionStack:
    """migrate, collectstatic, then gunicorn, the live streams' uvicorn, one worker and ONE beat,
    as compose runs them."""

    venv: Path
    workdir: Path
    database_url: str
    redis_url: str
    identity_url: str
    clouds_yaml: Path
    variables: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=procs.free_port)
    live_port: int = field(default_factory=procs.free_port)
    secret_key: str = field(default_factory=lambda: "production-shape-" + secrets.token_hex(16))
    procs: dict[str, procs.Proc] = field(default_factory=dict)
    extra: list[procs.Proc] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def live_url(self) -> str:
        return f"http://127.0.0.1:{self.live_port}"

    def translate(self, cmd: list[str]) -> list[str]:
        """A compose command as it runs here: a free loopback port, the scratch directory."""
        out: list[str] = []
        for arg in cmd:
            if out and out[-1] == "--host" and arg == IMAGE_HOST:
                arg = "127.0.0.1"
            elif out and out[-1] == "--port":
                arg = str(self.live_port)
            arg = arg.replace(IMAGE_BIND, f"127.0.0.1:{self.port}")
            if arg.startswith(IMAGE_DIR):
                arg = str(self.workdir / arg[len(IMAGE_DIR) :])
            out.append(arg)
        return out

    def environment(self) -> dict[str, str]:
        image = dockerfile().env
        variables = {
            "SECRET_KEY": self.secret_key,  # one for every service, as compose's .env gives
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: a browser behind the TLS proxy would send these cookies.
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "BEHIND_TLS_PROXY": "0",
            "KEYSTONE_URL": self.identity_url,
            "SWEEP_INTERVAL": "10",
            "DETECT_INTERVAL": "1",
            "TRACK_INTERVAL": "1",
            **self.variables,
        }
        env = {
            "PATH": f"{self.venv / 'bin'}{os.pathsep}/usr/bin:/bin",
            "HOME": str(self.workdir),
            "LANG": "C.UTF-8",
            **{k: self.translate([v])[0] for k, v in image.items()},
            **compose_environment(variables),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": self.redis_url,
            "OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml),
            "STATIC_ROOT": str(self.workdir / "staticfiles"),
            "VIRTUAL_ENV": str(self.venv),
            # deploy/gunicorn.conf.py binds GUNICORN_BIND (0.0.0.0:8000 in a container).
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "prometheus"),
        }
        for key, value in self.variables.items():  # what a deployment's .env may add
            env.setdefault(key, value)
        return env

    def _log(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def run_once(self, name: str, cmd: list[str], extra_env: dict[str, str] | None = None):
        env = {**self.environment(), **(extra_env or {})}
        done = subprocess.run(
            self.translate(cmd), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        self._log(name).write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            tail = done.stderr[-3000:]
            raise procs.ProcessFailed(f"{name} exited with {done.returncode}:\n{tail}")

    def start(self, name: str, cmd: list[str] | None = None) -> procs.Proc:
        cmd = cmd or compose_commands()[name]
        proc = procs.start(
            name, self.translate(cmd), env=self.environment(), cwd=ROOT, log=self._log(name)
        )
        if name in self.procs:
            self.extra.append(self.procs[name])
        self.procs[name] = proc
        return proc

    def up(self) -> ProductionStack:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        commands = compose_commands()
        image = dockerfile()
        self.run_once("migrate", commands["migrate"])
        self.run_once("collectstatic", image.collectstatic, image.collectstatic_env)
        for name in LONG_RUNNING:
            self.start(name, commands[name])
        self.procs["web"].wait_url(self.url + "/healthz", timeout=60)
        self.procs["live"].wait_url(self.live_url + "/healthz", timeout=60)
        self.procs["worker"].wait_for_line(" ready.", timeout=90)
        self.procs["beat"].wait_for_line("beat: Starting", timeout=60)
        return self

    def down(self) -> None:
        procs.stop_all([*self.procs.values(), *self.extra], grace=15)

    def assert_running(self) -> None:
        for name, proc in self.procs.items():
            if not proc.alive():
                raise proc.failed(f"{name} is not running")

    def logs(self, name: str) -> str:
        path = self._log(name)
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def simulator(create_delay: int, delete_delay: int):
    """A simulator of the suite's own (so it may pause or break it), stopped afterwards."""
    from cloudsim.testing import start_simulator

    running = start_simulator(
        "--create-delay", str(create_delay), "--delete-delay", str(delete_delay)
    )
    try:
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def running_stack(
    *,
    venv: Path,
    workdir: Path,
    database: ScratchDatabase,
    redis_url: str,
    cloud,
    variables: dict[str, str] | None = None,
    **attached: Any,
):
    """The stack up on `database` (dropped afterwards) against the simulator `cloud`; `attached`
    are set on it for the tests (the servers behind it, say)."""
    stack = ProductionStack(
        venv=venv,
        workdir=workdir,
        database_url=database.url,
        redis_url=redis_url,
        identity_url=cloud.identity_url,
        clouds_yaml=cloud.write_clouds_yaml(workdir / "clouds.yaml", "dashboard-demo"),
        variables=variables or {},
    )
    stack.database = database
    for name, value in attached.items():
        setattr(stack, name, value)
    try:
        yield stack.up()
    finally:
        stack.down()
        database.drop()


def wait_for(what: str, check, timeout: float, interval: float = 0.5):
    """Poll `check()` until it returns something truthy; that value, or an AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")
