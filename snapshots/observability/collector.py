"""Gauges of the mirror, computed from the database at scrape time.

Whichever web process answers the scrape gives the same numbers, and a scrape costs a fixed
number of queries whatever the cloud's size: one GROUP BY over live snapshots (count, stuck
count and size by project and status), one over failure transitions, and small reads of the
cloud's state, the most overdue check and the heartbeats. Series exist only for projects that
have snapshots; with METRICS_PER_PROJECT=false the project label is aggregated away in SQL.

At 100,000 snapshots over 10,000 projects the snapshot gauges are ~30,000 series: building a
prometheus_client sample object for each costs more than the query, so `exposition()` writes
the text format directly (bench/bench_metrics.py); `MirrorCollector` offers the same figures to
a prometheus_client registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from snapshots.choices import FAILED
from snapshots.models import CloudState, Heartbeat, Snapshot, StatusChange
from snapshots.observability.metrics import PREFIX

GIB = 1024**3

SNAPSHOTS = (
    f"{PREFIX}_snapshots",
    "Snapshots in the mirror (not deleted), by project, status and whether stuck.",
)
SIZE = (
    f"{PREFIX}_snapshot_size_bytes",
    "Total size of the snapshots in the mirror (not deleted), by project.",
)
FAILURES = (
    f"{PREFIX}_snapshot_failures",
    "Snapshots seen entering error or error_deleting (from the status history).",
)
CLOUD_UP = (f"{PREFIX}_cloud_up", "1 when the cloud answered the workers' last call.")
LAST_SYNC = (
    f"{PREFIX}_last_successful_sync_timestamp_seconds",
    "When the last full sync of the mirror succeeded (Unix time; 0: never).",
)
MIRROR_AGE = (
    f"{PREFIX}_mirror_age_seconds",
    "Seconds since the last successful full sync: how old the mirror may be.",
)
DETECTION_LAG = (
    f"{PREFIX}_detection_lag_seconds",
    "How long the most overdue transitional snapshot has waited for its next check.",
)
HEARTBEAT_AGE = (
    f"{PREFIX}_heartbeat_age_seconds",
    "Seconds since each background role (worker, beat, listener) last ticked.",
)


@dataclass
class Figures:
    per_project: bool
    # (project or "", status, live count, stuck count, GiB)
    groups: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    cloud_up: bool = True
    last_sync_ok: datetime | None = None
    detection_lag: float = 0.0
    heartbeats: dict[str, float] = field(default_factory=dict)
    mirror_age: float | None = None


def _groups(per_project: bool) -> list[tuple[str, str, int, int, int]]:
    table = connection.ops.quote_name(Snapshot._meta.db_table)
    key = "project_id, status" if per_project else "status"
    # Grouping by the columns of the index leading with deleted_at lets SQLite and PostgreSQL
    # read the index in order; the stuck flag is summed rather than grouped for that reason.
    sql = (
        f"SELECT {key}, COUNT(*), "  # noqa: S608 (names from the model, no user input)
        "SUM(CASE WHEN stuck_since IS NULL THEN 0 ELSE 1 END), SUM(size) "
        f"FROM {table} WHERE deleted_at IS NULL GROUP BY {key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    if per_project:
        return [(p, s, int(n), int(k or 0), int(g or 0)) for p, s, n, k, g in rows]
    return [("", s, int(n), int(k or 0), int(g or 0)) for s, n, k, g in rows]


def gather(now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    figures = Figures(per_project=settings.METRICS_PER_PROJECT)
    figures.groups = _groups(figures.per_project)
    figures.failures = dict(
        StatusChange.objects.filter(to_status__in=FAILED)
        .values_list("to_status")
        .annotate(n=Count("id"))
        .order_by()
    )
    state = CloudState.objects.filter(id=1).first()
    figures.cloud_up = state is None or state.reachable
    figures.last_sync_ok = state.last_sync_ok_at if state else None
    if figures.last_sync_ok:
        figures.mirror_age = max(0.0, (now - figures.last_sync_ok).total_seconds())
    oldest_due = (
        Snapshot.objects.transitional()
        .filter(next_check_at__lte=now)
        .aggregate(due=Min("next_check_at"))["due"]
    )
    figures.detection_lag = max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0
    figures.heartbeats = {
        row.name: max(0.0, (now - row.beat_at).total_seconds()) for row in Heartbeat.objects.all()
    }
    return figures


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _head(out: list[str], name_help: tuple[str, str], kind: str) -> None:
    name, text = name_help
    out.append(f"# HELP {name} {text}\n# TYPE {name} {kind}\n")


def exposition(figures: Figures) -> bytes:
    """The figures in Prometheus' text format (version 0.0.4)."""
    out: list[str] = []
    name = SNAPSHOTS[0]
    _head(out, SNAPSHOTS, "gauge")
    sizes: dict[str, int] = {}
    for project, status, count, stuck, gib in figures.groups:
        prefix = f'{name}{{project="{_escape(project)}",' if figures.per_project else f"{name}{{"
        status = _escape(status)
        if count - stuck:
            out.append(f'{prefix}status="{status}",stuck="false"}} {count - stuck}\n')
        if stuck:
            out.append(f'{prefix}status="{status}",stuck="true"}} {stuck}\n')
        sizes[project] = sizes.get(project, 0) + gib
    _head(out, SIZE, "gauge")
    for project, gib in sizes.items():
        labels = f'{{project="{_escape(project)}"}}' if figures.per_project else ""
        out.append(f"{SIZE[0]}{labels} {gib * GIB}\n")
    _head(out, FAILURES, "counter")
    for status in sorted(FAILED):
        out.append(f'{FAILURES[0]}_total{{status="{status}"}} {figures.failures.get(status, 0)}\n')
    _head(out, CLOUD_UP, "gauge")
    out.append(f"{CLOUD_UP[0]} {1 if figures.cloud_up else 0}\n")
    _head(out, LAST_SYNC, "gauge")
    last = figures.last_sync_ok.timestamp() if figures.last_sync_ok else 0
    out.append(f"{LAST_SYNC[0]} {last}\n")
    if figures.mirror_age is not None:
        _head(out, MIRROR_AGE, "gauge")
        out.append(f"{MIRROR_AGE[0]} {figures.mirror_age}\n")
    _head(out, DETECTION_LAG, "gauge")
    out.append(f"{DETECTION_LAG[0]} {figures.detection_lag}\n")
    _head(out, HEARTBEAT_AGE, "gauge")
    for role, age in sorted(figures.heartbeats.items()):
        out.append(f'{HEARTBEAT_AGE[0]}{{role="{_escape(role)}"}} {age}\n')
    return "".join(out).encode()


class MirrorCollector:
    """The same figures for a prometheus_client registry (`collect()` runs once per scrape)."""

    def describe(self) -> list[Metric]:
        return []  # no queries at registration time

    def collect(self) -> Iterator[Metric]:
        figures = gather()
        labels = ["project", "status", "stuck"] if figures.per_project else ["status", "stuck"]
        count = GaugeMetricFamily(*SNAPSHOTS, labels=labels)
        size = GaugeMetricFamily(*SIZE, labels=["project"] if figures.per_project else [])
        sizes: dict[str, int] = {}
        for project, status, n, stuck, gib in figures.groups:
            head = [project] if figures.per_project else []
            if n - stuck:
                count.add_metric([*head, status, "false"], n - stuck)
            if stuck:
                count.add_metric([*head, status, "true"], stuck)
            sizes[project] = sizes.get(project, 0) + gib
        for project, gib in sizes.items():
            size.add_metric([project] if figures.per_project else [], gib * GIB)
        failures = CounterMetricFamily(*FAILURES, labels=["status"])
        for status in sorted(FAILED):
            failures.add_metric([str(status)], figures.failures.get(status, 0))
        yield from (count, size, failures)
        yield GaugeMetricFamily(*CLOUD_UP, value=1 if figures.cloud_up else 0)
        last = figures.last_sync_ok.timestamp() if figures.last_sync_ok else 0
        yield GaugeMetricFamily(*LAST_SYNC, value=last)
        if figures.mirror_age is not None:
            yield GaugeMetricFamily(*MIRROR_AGE, value=figures.mirror_age)
        yield GaugeMetricFamily(*DETECTION_LAG, value=figures.detection_lag)
        beats = GaugeMetricFamily(*HEARTBEAT_AGE, labels=["role"])
        for role, age in sorted(figures.heartbeats.items()):
            beats.add_metric([role], age)
        yield beats
