"""The demo cloud: identity, volumes and snapshots, generated from a seeded RNG."""

from __future__ import annotations

import random
import uuid

from .store import Store, dumps, stable_id

DAY = 86400.0
PROJECTS = ("alpha", "beta", "gamma")
USERS = {
    # name: [(project, role), ...]
    "demo": [("alpha", "member"), ("beta", "member")],
    "admin": [("alpha", "admin"), ("beta", "admin"), ("gamma", "admin")],
    "auditor": [("alpha", "reader"), ("beta", "reader"), ("gamma", "reader")],
}
HOST = "cloudsim@lvm#lvm"

# (project, name, size GiB, status, bootable, az)
VOLUMES = (
    ("alpha", "db-primary", 500, "in-use", False, "nova"),
    ("alpha", "db-replica", 500, "available", False, "nova"),
    ("alpha", "web-data-01", 50, "available", False, "nova"),
    ("alpha", "web-data-02", 50, "in-use", False, "nova"),
    ("alpha", "boot-jumphost", 20, "in-use", True, "nova"),
    ("alpha", "scratch-tmp", 10, "error", False, "nova"),
    ("beta", "build-cache", 100, "available", False, "nova"),
    ("beta", "ci-runner-root", 40, "in-use", True, "nova"),
    ("beta", "artifacts", 250, "available", False, "az-2"),
    ("beta", "staging-db", 80, "available", False, "az-2"),
    ("gamma", "analytics-warehouse", 400, "available", False, "nova"),
    ("gamma", "ml-datasets", 300, "in-use", False, "az-2"),
    ("gamma", "mail-spool", 1, "available", False, "nova"),
)

SNAP_KINDS = ("nightly", "weekly", "pre-upgrade", "manual", "before-migration", "hourly", "release")
DESCRIPTIONS = (
    None,
    "",
    "Automated nightly snapshot",
    "Taken before the kernel upgrade",
    "Weekly retention copy (keep 4)",
    "Manual snapshot requested by ops",
    "Before schema migration 2024_11",
    "Point-in-time copy for the audit",
)
OWNERS = ("ops", "dba", "web-team", "ml-team", "ci", "security")
ENVS = ("prod", "staging", "dev")


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_identity(store: Store, password: str, snapshot_quota: int, gigabytes_quota: int) -> None:
    store.x("INSERT OR REPLACE INTO domains VALUES ('default', 'Default')")
    for name in PROJECTS:
        store.x(
            "INSERT OR REPLACE INTO projects (id, name, domain_id, description, snapshot_quota, "
            "gigabytes_quota) VALUES (?, ?, 'default', ?, ?, ?)",
            (
                stable_id("project", name),
                name,
                f"Demo project {name}",
                snapshot_quota,
                gigabytes_quota,
            ),
        )
    for user, grants in USERS.items():
        uid = stable_id("user", user)
        store.x(
            "INSERT OR REPLACE INTO users (id, name, domain_id, password, email) "
            "VALUES (?, ?, 'default', ?, ?)",
            (uid, user, password, f"{user}@example.org"),
        )
        for project, role in grants:
            store.x(
                "INSERT OR REPLACE INTO assignments VALUES (?, ?, ?)",
                (uid, stable_id("project", project), role),
            )


def seed_volumes(store: Store, now: float) -> list[dict]:
    rng = random.Random("cloudsim-volumes")
    vols = []
    for project, name, size, status, bootable, az in VOLUMES:
        vid = new_uuid(rng)
        created = now - rng.uniform(120, 400) * DAY
        owner = "admin" if project == "gamma" else "demo"
        row = {
            "id": vid,
            "project_id": stable_id("project", project),
            "user_id": stable_id("user", owner),
            "display_name": name,
            "display_description": f"{name} volume",
            "size": size,
            "status": status,
            "availability_zone": az,
            "bootable": int(bootable),
            "host": None if status == "error" else HOST,
            "attached_to": new_uuid(rng) if status == "in-use" else None,
            "created_at": created,
            "updated_at": created + rng.uniform(10, 3600),
            "metadata": dumps({"env": rng.choice(ENVS), "owner": rng.choice(OWNERS)}),
        }
        store.x(
            "INSERT INTO volumes (id, project_id, user_id, display_name, display_description, "
            "size, status, availability_zone, bootable, host, attached_to, created_at, "
            "updated_at, metadata) VALUES (:id, :project_id, :user_id, :display_name, "
            ":display_description, :size, :status, :availability_zone, :bootable, :host, "
            ":attached_to, :created_at, :updated_at, :metadata)",
            row,
        )
        if row["attached_to"]:
            store.attach(vid, row["attached_to"], created, aid=stable_id("attachment", vid))
        vols.append(row)
    return vols


def _snap_name(rng: random.Random, vol_name: str, created: float) -> str:
    from .store import iso

    kind = rng.choice(SNAP_KINDS)
    day = (iso(created) or "")[:10]
    return f"{vol_name}-{kind}-{day}"


SNAP_INSERT = (
    "INSERT INTO snapshots (id, created_at, updated_at, user_id, project_id, volume_id, status, "
    "progress, volume_size, display_name, display_description, use_quota, metadata, due_at, "
    "due_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def seed_demo_snapshots(store: Store, vols: list[dict], now: float) -> None:
    rng = random.Random("cloudsim-demo-snapshots")
    usable = [v for v in vols if v["status"] != "error"]
    # (status, count, age range in days, due offset (s) or None when it never finishes)
    plan = [
        ("available", 28, (0.2, 90), None),
        ("error", 3, (1, 60), None),
        ("error_deleting", 2, (2, 40), None),
        ("creating", 2, (0, 0), 900.0),  # running, finishes 15 minutes after start/reset
        ("deleting", 1, (0, 0), 600.0),  # running, gone 10 minutes after start/reset
        ("creating", 2, (0.1, 0.3), None),  # stuck for hours
        ("deleting", 2, (0.1, 0.5), None),  # stuck for hours
    ]
    rows = []
    for status, count, (lo, hi), due in plan:
        for _ in range(count):
            vol = rng.choice(usable)
            if due is not None and status == "creating":
                created = now - rng.uniform(30, 120)
            else:
                created = now - rng.uniform(lo, hi) * DAY
            name = _snap_name(rng, vol["display_name"], created)
            meta = {}
            if rng.random() < 0.7:
                meta["owner"] = rng.choice(OWNERS)
            if rng.random() < 0.5:
                meta["env"] = rng.choice(ENVS)
            if rng.random() < 0.3:
                meta["retention"] = rng.choice(("7d", "30d", "90d", "forever"))
            if rng.random() < 0.15:
                meta["ticket"] = f"OPS-{rng.randint(1000, 9999)}"
            progress = {"available": "100%", "creating": "0%"}.get(status, "100%")
            if status == "creating" and due is None:
                progress = f"{rng.randint(5, 60)}%"
            if status == "error":
                progress = "0%"
            # never in the future: change detection reads updated_at as Cinder's clock
            updated = None if status == "creating" else min(now, created + rng.uniform(5, 600))
            due_at = now + due if due is not None else None
            due_status = None
            if due is not None:
                due_status = "available" if status == "creating" else "gone"
            rows.append(
                (
                    new_uuid(rng),
                    created,
                    updated,
                    vol["user_id"],
                    vol["project_id"],
                    vol["id"],
                    status,
                    progress,
                    vol["size"],
                    name,
                    rng.choice(DESCRIPTIONS),
                    1,
                    dumps(meta),
                    due_at,
                    due_status,
                )
            )
    store.db.executemany(SNAP_INSERT, rows)


def seed_bulk_projects(
    store: Store, count: int, now: float, snapshot_quota: int, gigabytes_quota: int
) -> list[dict]:
    """``count`` more projects `bulk-00000`..., each with one available volume (a large cloud's
    shape: many tenants, few snapshots each). The volumes are returned for the snapshots."""
    rng = random.Random(f"cloudsim-bulk-projects-{count}")
    vols = []
    for i in range(count):
        name = f"bulk-{i:05d}"
        pid = stable_id("project", name)
        store.x(
            "INSERT OR REPLACE INTO projects (id, name, domain_id, description, snapshot_quota, "
            "gigabytes_quota) VALUES (?, ?, 'default', ?, ?, ?)",
            (pid, name, f"Bulk project {name}", snapshot_quota, gigabytes_quota),
        )
        created = now - 400 * DAY - i
        vols.append(
            {
                "id": new_uuid(rng),
                "project_id": pid,
                "user_id": stable_id("user", "admin"),
                "display_name": f"{name}-data",
                "size": (1, 5, 10, 20, 50, 100)[i % 6],
                "status": "available",
                "created_at": created,
            }
        )
    store.db.executemany(
        "INSERT INTO volumes (id, project_id, user_id, display_name, display_description, size, "
        "status, host, created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
        [
            (
                v["id"],
                v["project_id"],
                v["user_id"],
                v["display_name"],
                v["size"],
                v["status"],
                HOST,
                v["created_at"],
                v["created_at"],
            )
            for v in vols
        ],
    )
    return vols


def seed_bulk_snapshots(store: Store, vols: list[dict], count: int, now: float) -> None:
    """``count`` more snapshots over `vols`, created over the last year."""
    rng = random.Random(f"cloudsim-bulk-{count}")
    usable = [v for v in vols if v["status"] != "error"]
    statuses = ["available"] * 94 + ["error"] * 3 + ["error_deleting"] * 2 + ["creating"]
    batch = []
    getrandbits = rng.getrandbits
    for i in range(count):
        vol = usable[i % len(usable)] if i % 7 else rng.choice(usable)
        created = now - rng.random() * 365 * DAY - 60
        status = statuses[int(rng.random() * len(statuses))]
        kind = SNAP_KINDS[i % len(SNAP_KINDS)]
        meta = {"owner": OWNERS[i % len(OWNERS)]}
        if i % 3 == 0:
            meta["env"] = ENVS[i % len(ENVS)]
        if i % 11 == 0:
            meta["retention"] = "30d"
        batch.append(
            (
                str(uuid.UUID(int=getrandbits(128), version=4)),
                created,
                None if status == "creating" else created + 30.0,
                vol["user_id"],
                vol["project_id"],
                vol["id"],
                status,
                "10%" if status == "creating" else ("0%" if status == "error" else "100%"),
                vol["size"],
                f"{vol['display_name']}-{kind}-{i:06d}",
                "Automated snapshot" if i % 4 else None,
                1,
                dumps(meta),
                None,
                None,
            )
        )
        if len(batch) >= 20000:
            store.db.executemany(SNAP_INSERT, batch)
            batch = []
    if batch:
        store.db.executemany(SNAP_INSERT, batch)


def seed(
    store: Store,
    kind: str,
    snapshots: int,
    password: str,
    snapshot_quota: int,
    gigabytes_quota: int,
    projects: int = 0,
) -> None:
    now = store.now()
    with store.lock:
        store.x("BEGIN")
        seed_identity(store, password, snapshot_quota, gigabytes_quota)
        vols: list[dict] = []
        if kind == "demo" or snapshots:
            vols = seed_volumes(store, now)
        if kind == "demo":
            seed_demo_snapshots(store, vols, now)
        if projects:
            vols = seed_bulk_projects(store, projects, now, snapshot_quota, gigabytes_quota)
        if snapshots:
            seed_bulk_snapshots(store, vols, snapshots, now)
        store.x("COMMIT")
