"""Quota checks and usage: the limits call and the 413 of over-quota creates."""

from __future__ import annotations

from .errors import SimError
from .microversions import (
    Ctx,
)
from .validation import bool_param


class Quota:
    """Quota checks and usage."""

    def check_snapshot_quota(self, project_id: str, size: int) -> None:
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (project_id,))
        if proj is None:
            return
        if proj["snapshot_quota"] >= 0:
            used = self.store.q1(
                "SELECT COUNT(*) FROM snapshots WHERE project_id = ? AND use_quota = 1",
                (project_id,),
            )[0]
            if used + 1 > proj["snapshot_quota"]:
                raise SimError(
                    413,
                    f"Maximum number of snapshots allowed ({proj['snapshot_quota']}) exceeded",
                    headers={"Retry-After": "0"},
                )
        self.check_gigabytes(proj, size, "snapshot")

    def check_gigabytes(self, proj, size: int, what: str) -> None:
        if proj["gigabytes_quota"] < 0:
            return
        used = self.gigabytes_used(proj["id"])
        if used + size > proj["gigabytes_quota"]:
            raise SimError(
                413,
                f"Requested volume or snapshot exceeds allowed gigabytes quota. Requested "
                f"{size}G, quota is {proj['gigabytes_quota']}G and {used}G has been consumed.",
                headers={"Retry-After": "0"},
            )

    def gigabytes_used(self, project_id: str) -> int:
        vols = self.store.q1(
            "SELECT COALESCE(SUM(size), 0) FROM volumes WHERE project_id = ? AND use_quota = 1",
            (project_id,),
        )[0]
        snaps = self.store.q1(
            "SELECT COALESCE(SUM(volume_size), 0) FROM snapshots WHERE project_id = ? "
            "AND use_quota = 1",
            (project_id,),
        )[0]
        return int(vols + snaps)

    def check_volume_quota(self, proj, size: int) -> None:
        if proj["volume_quota"] >= 0:
            used = self.store.q1(
                "SELECT COUNT(*) FROM volumes WHERE project_id = ? AND use_quota = 1",
                (proj["id"],),
            )[0]
            if used + 1 > proj["volume_quota"]:
                raise SimError(
                    413,
                    f"VolumeLimitExceeded: Maximum number of volumes allowed "
                    f"({proj['volume_quota']}) exceeded for quota 'volumes'.",
                    headers={"Retry-After": "0"},
                )
        self.check_gigabytes(proj, size, "volume")

    def usage(self, project_id: str) -> dict[str, int]:
        count = "SELECT COUNT(*) FROM {} WHERE project_id = ? AND use_quota = 1"
        return {
            "volumes": self.store.q1(count.format("volumes"), (project_id,))[0],
            "snapshots": self.store.q1(count.format("snapshots"), (project_id,))[0],
            "gigabytes": self.gigabytes_used(project_id),
        }

    def show_quota_set(self, ctx: Ctx, target: str) -> tuple[int, dict]:
        self.authorize(ctx, "reader", "volume_extension:quotas:show", target)
        with_usage = bool_param("usage", ctx.req.args.get("usage", "false"))
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (target,))
        limits = {
            "volumes": proj["volume_quota"] if proj else -1,
            "snapshots": proj["snapshot_quota"] if proj else -1,
            "gigabytes": proj["gigabytes_quota"] if proj else -1,
            "backups": 10,
            "backup_gigabytes": 1000,
            "groups": 10,
            "per_volume_gigabytes": -1,
        }
        used = self.usage(target) if proj else {}
        for kind in ("volumes", "snapshots", "gigabytes"):
            limits[f"{kind}___DEFAULT__"] = -1
        body: dict = {"id": target}
        for key, limit in limits.items():
            if with_usage:
                body[key] = {"limit": limit, "in_use": used.get(key, 0), "reserved": 0}
            else:
                body[key] = limit
        return 200, {"quota_set": body}

    def limits(self, ctx: Ctx) -> tuple[int, dict]:
        proj = self.store.q1("SELECT * FROM projects WHERE id = ?", (ctx.project_id,))
        pid = ctx.project_id
        snaps = self.store.q1(
            "SELECT COUNT(*) FROM snapshots WHERE project_id = ? AND use_quota = 1", (pid,)
        )[0]
        vols = self.store.q1(
            "SELECT COUNT(*) FROM volumes WHERE project_id = ? AND use_quota = 1", (pid,)
        )[0]
        return 200, {
            "limits": {
                "rate": [],
                "absolute": {
                    "maxTotalVolumes": proj["volume_quota"] if proj else -1,
                    "maxTotalSnapshots": proj["snapshot_quota"] if proj else -1,
                    "maxTotalVolumeGigabytes": proj["gigabytes_quota"] if proj else -1,
                    "maxTotalBackups": 10,
                    "maxTotalBackupGigabytes": 1000,
                    "totalVolumesUsed": vols,
                    "totalSnapshotsUsed": snaps,
                    "totalGigabytesUsed": self.gigabytes_used(pid),
                    "totalBackupsUsed": 0,
                    "totalBackupGigabytesUsed": 0,
                },
            }
        }
