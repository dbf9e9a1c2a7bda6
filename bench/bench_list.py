"""Server time of the snapshot list page with 100,000 snapshots in the mirror.

Rows are bulk-inserted straight into a throw-away database (no cloud needed). The page is
requested in-process through Django's test client, so the figures are the server's time:
middleware, session, filters, count, page query and template, with no network. Each page is
measured as wall time and as CPU time of this process (`time.process_time()`: Python and, on
SQLite, the database engine too), which is what the page costs when other programs share the
cores. Target: under 20 ms of CPU per 25-row page for every mix.

Run:
  .venv/bin/python bench/bench_list.py                       # SQLite (a temporary file)
  DATABASE_URL=postgres://user:pw@127.0.0.1/dashboard .venv/bin/python bench/bench_list.py
  (PostgreSQL: the bench creates and drops its own test_<name> database)
Options: --snapshots N (100000), --rounds R (40), --projects P (20)
  --baseline DIR   also measure another checkout of the project (e.g. `git archive` of an older
                   commit unpacked in DIR) on the same seeded database, in the same run, and
                   print both side by side
  --profile N      profile case N (1-based) with pyinstrument instead of measuring
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A --baseline run imports the other checkout's code (set by the parent run, see main()).
CODE_ROOT = os.environ.get("BENCH_CODE_ROOT") or ROOT
sys.path.insert(0, CODE_ROOT)

TARGET_CPU_MS = 20  # per 25-row page, p50
CASES = [
    ("admin", "/snapshots/?status=available&sort=-size"),
    ("admin", "/snapshots/?status=available&sort=name&page=200"),
    ("admin", "/snapshots/?q=upgrade&sort=-created"),
    ("admin", "/snapshots/?failed=on&sort=volume&per_page=100"),
    ("admin", "/snapshots/"),
    ("member", "/snapshots/?status=available&sort=-size"),
    ("member", "/snapshots/?size_min=10&size_max=50&sort=age"),
]
STATUSES = [
    ("available", 70),
    ("error", 6),
    ("creating", 4),
    ("deleting", 3),
    ("error_deleting", 3),
    ("backing-up", 2),
    ("restoring", 2),
    ("updating", 2),
    ("unmanaging", 1),
]


@contextlib.contextmanager
def scratch_database() -> Iterator[None]:
    """A test database of its own for the run, destroyed afterwards whatever happens."""
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(
            connection.settings_dict["NAME"], verbosity=0, keepdb=False
        )


def configure(tmp: str) -> None:
    os.environ.setdefault("DASHBOARD_VAR_DIR", tmp)
    os.environ["DASHBOARD_AUTH"] = "local"
    os.environ["KEYSTONE_URL"] = ""
    os.environ["LOCAL_PROJECT_ID"] = "project-00"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = os.path.join(tmp, "bench.sqlite3")
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(count: int, projects: int) -> None:
    from django.db import transaction

    from snapshots.models import CloudState, Project, Snapshot, Volume

    rnd = random.Random(42)
    now = datetime.now(UTC)
    project_ids = [f"project-{i:02d}" for i in range(projects)]
    Project.objects.bulk_create(Project(id=p, name=f"proj {p[-2:]}") for p in project_ids)
    volumes = []
    for i in range(count // 20):
        volumes.append(
            Volume(
                id=str(uuid.UUID(int=rnd.getrandbits(128))),
                project_id=project_ids[i % projects],
                name=f"volume-{i:05d}",
                size=rnd.choice([1, 5, 10, 20, 50, 100]),
                status="available",
                created_at=now - timedelta(days=400),
            )
        )
    Volume.objects.bulk_create(volumes, batch_size=2000)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    batch: list[Snapshot] = []
    with transaction.atomic():
        for i in range(count):
            volume = volumes[rnd.randrange(len(volumes))]
            created = now - timedelta(seconds=rnd.randrange(365 * 86400))
            status = rnd.choice(statuses)
            batch.append(
                Snapshot(
                    id=str(uuid.UUID(int=rnd.getrandbits(128))),
                    project_id=volume.project_id,
                    project_name=f"proj {volume.project_id[-2:]}",
                    name=f"nightly-{volume.name}-{i:06d}",
                    description=rnd.choice(["", "before upgrade", "weekly", "pre-migration"]),
                    status=status,
                    progress=100 if status == "available" else rnd.randrange(100),
                    size=volume.size,
                    volume_id=volume.id,
                    volume_name=volume.name,
                    user_id=uuid.UUID(int=rnd.getrandbits(128)).hex,
                    consumes_quota=True,
                    metadata={"team": rnd.choice(["db", "web", "ops"])} if i % 4 == 0 else {},
                    created_at=created,
                    updated_at=created + timedelta(minutes=5),
                    first_seen=created,
                    last_seen=now,
                    status_since=created,
                    deleted_at=now if i % 50 == 0 else None,
                    version=1,
                )
            )
            if len(batch) == 5000:
                Snapshot.objects.bulk_create(batch)
                batch = []
        Snapshot.objects.bulk_create(batch)
    CloudState.objects.update_or_create(id=1, defaults={"last_sync_ok_at": now})


def users():
    from django.contrib.auth.models import Group, User

    User.objects.create_superuser("bench-admin", "a@example.org", "pw")
    member = User.objects.create_user("bench-member", "m@example.org", "pw")
    member.groups.add(Group.objects.get_or_create(name="snapshot-members")[0])


def client_for(who: str):
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=f"bench-{who}"))
    return client


def measure(client, url: str, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Wall-clock, CPU and SQL milliseconds per request (CPU: this process, SQLite included;
    SQL: time inside the database calls, wall clock)."""
    from django.db import connection

    sql: list[float] = []

    def timed(execute, query, params, many, context):
        started = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            sql[-1] += (time.perf_counter() - started) * 1000

    for _ in range(3):  # warm caches (templates, DB pages)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    with connection.execute_wrapper(timed):
        for _ in range(rounds):
            sql.append(0.0)
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
    return wall, cpu, sql


def calibration_ms() -> float:
    """CPU time of a fixed pure-Python loop: the same work in every run, so comparing it
    between runs shows how much a busy machine slowed all the figures down."""
    started = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return (time.process_time() - started) * 1000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def run_case(index: int, rounds: int) -> dict:
    who, url = CASES[index]
    wall, cpu, sql = measure(client_for(who), url, rounds)
    return {
        "who": who,
        "url": url,
        "wall50": statistics.median(wall),
        "wall95": percentile(wall, 95),
        "cpu50": statistics.median(cpu),
        "cpu95": percentile(cpu, 95),
        "sql50": statistics.median(sql),
    }


def profile(case: int, rounds: int) -> None:
    from pyinstrument import Profiler

    who, url = CASES[case - 1]
    client = client_for(who)
    client.get(url)
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(rounds):
            client.get(url)
    print(f"# profile of {rounds} requests: {who} {url}")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def baseline(directory: str, db_name: str, case: int, rounds: int) -> dict:
    """One case measured with the code in `directory`, on the same database."""
    env = {**os.environ, "BENCH_CODE_ROOT": os.path.abspath(directory)}
    command = [sys.executable, __file__, "--db", db_name, "--rounds", str(rounds), "--json"]
    command += ["--case", str(case)]
    # In that directory: Celery's Django fixup puts the working directory first on sys.path.
    done = subprocess.run(command, env=env, cwd=directory, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the baseline run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def exports() -> None:
    """Time to the first byte and to the last of each export of the whole list (admin), and
    the process's peak memory after them (flat: CSV and JSON stream, XLSX is capped)."""
    import resource

    client = client_for("admin")
    print(f"{'export':<7} {'first byte ms':>14} {'all ms':>8} {'MB':>6}  url")
    for fmt in ("csv", "json", "xlsx"):
        url = f"/snapshots/?export={fmt}"
        started = time.perf_counter()
        chunks = iter(client.get(url).streaming_content)
        first = next(chunks)
        first_ms = (time.perf_counter() - started) * 1000
        size = len(first) + sum(len(chunk) for chunk in chunks)
        all_ms = (time.perf_counter() - started) * 1000
        print(f"{fmt:<7} {first_ms:14.0f} {all_ms:8.0f} {size / 1e6:6.1f}  {url}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS of this process after the exports: {peak:.0f} MB")


def report(results: list[dict], before: list[dict] | None) -> bool:
    print(
        f"{'user':<7} {'cpu p50':>8} {'cpu p95':>8} {'sql p50':>8} {'wall p50':>9} {'wall p95':>9}"
        + (f" {'before cpu p50':>15} {'before wall p50':>16}" if before else "")
        + "  url"
    )
    within = True
    for index, row in enumerate(results):
        if "per_page=100" not in row["url"]:  # the target is per 25-row page
            within &= row["cpu50"] < TARGET_CPU_MS
        line = (
            f"{row['who']:<7} {row['cpu50']:8.1f} {row['cpu95']:8.1f} {row['sql50']:8.1f} "
            f"{row['wall50']:9.1f} {row['wall95']:9.1f}"
        )
        if before:
            line += f" {before[index]['cpu50']:15.1f} {before[index]['wall50']:16.1f}"
        print(f"{line}  {row['url']}")
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--baseline", metavar="DIR")
    parser.add_argument("--profile", type=int, metavar="N")
    parser.add_argument("--db", help=argparse.SUPPRESS)  # a seeded database (baseline runs)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    command = " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv])

    with tempfile.TemporaryDirectory(prefix="bench-list-") as tmp:
        configure(tmp)
        from django.db import connection

        if args.db:  # measure one case only, on a database another run seeded
            connection.settings_dict["NAME"] = args.db
            print(json.dumps(run_case(args.case, args.rounds)))
            return 0
        # No setup_test_environment(): it instruments template rendering, which a server lacks.
        vendor = connection.vendor
        with scratch_database():
            started = time.perf_counter()
            seed(args.snapshots, args.projects)
            if vendor == "postgresql":
                # What autovacuum does within a minute of a bulk load (statistics, and the
                # visibility map that lets COUNT(*) read only an index). SQLite is left as
                # Django leaves it (no ANALYZE), which is what `make run` gets.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            seeded = time.perf_counter() - started
            users()
            if args.profile:
                profile(args.profile, args.rounds)
                return 0
            print(f"# bench_list: {args.snapshots} snapshots, {vendor}, seeded in {seeded:.1f} s")
            print(f"# command: {command}")
            if args.baseline:
                print(
                    f"# before: the code in {args.baseline}, same database, same run, each case"
                    " measured right before the current code's (a process of its own)"
                )
            print(f"# target: server CPU p50 < {TARGET_CPU_MS} ms per 25-row page")
            print(f"# load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            print(f"# calibration loop before: {calibration_ms():.0f} ms of CPU")
            results, before = [], [] if args.baseline else None
            for index in range(len(CASES)):
                if args.baseline:
                    connection.close()
                    name = connection.settings_dict["NAME"]
                    before.append(baseline(args.baseline, name, index, args.rounds))
                results.append(run_case(index, args.rounds))
            within = report(results, before)
            print(f"# calibration loop after: {calibration_ms():.0f} ms of CPU")
            exports()
            print("# result:", "within target" if within else "over target")
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
