"""Server time of the snapshot list page with 100,000 snapshots in the mirror.

Rows are bulk-inserted straight into a throw-away database (no cloud needed). The page is
requested in-process through Django's test client, so the figures are the server's time:
middleware, session, filters, count, page query and template, with no network.

Run:
  .venv/bin/python bench/bench_list.py                       # SQLite (a temporary file)
  DATABASE_URL=postgres://user:pw@127.0.0.1/dashboard .venv/bin/python bench/bench_list.py
  (PostgreSQL: the bench creates and drops its own test_<name> database)
Options: --snapshots N (100000), --rounds R (40), --projects P (20)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET_P50_MS = 60
TARGET_P95_MS = 150
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

    admin = User.objects.create_superuser("bench-admin", "a@example.org", "pw")
    member = User.objects.create_user("bench-member", "m@example.org", "pw")
    member.groups.add(Group.objects.get_or_create(name="snapshot-members")[0])
    return admin, member


def measure(client, url: str, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per request (CPU: this process, SQLite included; it
    shows what the page costs when other programs share the machine's cores)."""
    for _ in range(3):  # warm caches (templates, DB pages)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    return wall, cpu


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--projects", type=int, default=20)
    args = parser.parse_args()
    command = " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv])

    with tempfile.TemporaryDirectory(prefix="bench-list-") as tmp:
        configure(tmp)
        from django.db import connection
        from django.test import Client

        # No setup_test_environment(): it instruments template rendering, which a server lacks.
        vendor = connection.vendor
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            seed(args.snapshots, args.projects)
            if vendor == "postgresql":
                # What autovacuum does within a minute of a bulk load (statistics, and the
                # visibility map that lets COUNT(*) read only an index). SQLite is left as
                # Django leaves it (no ANALYZE), which is what `make run` gets.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            seeded = time.perf_counter() - started
            admin, member = users()
            cases = [
                ("admin", admin, "/snapshots/?status=available&sort=-size"),
                ("admin", admin, "/snapshots/?status=available&sort=name&page=200"),
                ("admin", admin, "/snapshots/?q=upgrade&sort=-created"),
                ("admin", admin, "/snapshots/?failed=on&sort=volume&per_page=100"),
                ("admin", admin, "/snapshots/"),
                ("member", member, "/snapshots/?status=available&sort=-size"),
                ("member", member, "/snapshots/?size_min=10&size_max=50&sort=age"),
            ]
            print(f"# bench_list: {args.snapshots} snapshots, {vendor}, seeded in {seeded:.1f} s")
            print(f"# command: {command}")
            print(f"# target: p50 < {TARGET_P50_MS} ms, p95 < {TARGET_P95_MS} ms")
            print(f"# load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            print(f"{'user':<7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu p50':>8}  url")
            failed = False
            for who, user, url in cases:
                client = Client()
                client.force_login(user)
                times, cpu = measure(client, url, args.rounds)
                p50, p95 = statistics.median(times), percentile(times, 95)
                failed |= p50 >= TARGET_P50_MS or p95 >= TARGET_P95_MS
                print(
                    f"{who:<7} {p50:7.1f} {p95:7.1f} {max(times):7.1f} "
                    f"{statistics.median(cpu):8.1f}  {url}"
                )
            print("# result:", "over target" if failed else "within target")
        finally:
            connection.creation.destroy_test_db(
                connection.settings_dict["NAME"], verbosity=0, keepdb=False
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
