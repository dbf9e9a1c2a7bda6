"""The numbers behind the overview page's charts and lists.

Each function is a few aggregate queries over the mirror and the histories, whatever the number
of snapshots (no query per row), and every one starts from what `scope` may read. The results
are plain data: the view embeds them with `json_script` and static/js/charts.js draws them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import DurationField as DurationOutput
from django.db.models.functions import TruncDate
from django.utils import timezone

from snapshots.choices import FAILED, Outcome, Status
from snapshots.models import AuditEvent, Snapshot, StatusChange, Volume
from snapshots.permissions import Scope
from snapshots.selectors import restrict, stuck_snapshots, visible_snapshots
from snapshots.selectors.snapshots import project_names
from snapshots.templatetags.reveal import reveal_text

DEFAULT_DAYS = 30  # the window of the per-day charts
DEFAULT_OLDER_THAN = 90  # "snapshots older than N days"
TOP_PROJECTS = 15  # the rest are summed into "Other projects"
LIST_LIMIT = 20  # rows shown under each "right now" list
# Upper bounds of the creating -> available buckets, in seconds (the last bucket is open-ended).
DURATION_EDGES = (10, 30, 60, 300, 900, 3600)
DURATION_LABELS = (
    "< 10 s",
    "10-30 s",
    "30 s-1 min",
    "1-5 min",
    "5-15 min",
    "15-60 min",
    ">= 1 h",
)


@dataclass(frozen=True)
class Series:
    label: str
    data: list[float]


@dataclass(frozen=True)
class ChartData:
    """Labels on the x axis (or slices) and one or more series of numbers."""

    labels: list[str]
    series: list[Series] = field(default_factory=list)

    def as_json(self) -> dict:
        """The shape static/js/charts.js expects (Chart.js's `data` object)."""
        return {
            "labels": self.labels,
            "datasets": [asdict(s) for s in self.series],
        }

    def rows(self) -> list[tuple[str, list[float]]]:
        """(label, one value per series): the table under each chart, for screen readers."""
        return [(label, [s.data[i] for s in self.series]) for i, label in enumerate(self.labels)]

    def values(self, index: int = 0) -> dict[str, float]:
        """label -> value of one series; what the tests and the fallback tables read."""
        return dict(zip(self.labels, self.series[index].data, strict=True))


@dataclass(frozen=True)
class Listing:
    """A count, a total size, and the first rows of a "right now" list."""

    count: int
    total_size: int
    rows: list[Snapshot]


@dataclass(frozen=True)
class Durations:
    histogram: ChartData
    count: int
    average_seconds: float | None
    longest_seconds: float | None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _window(days: int, now: datetime | None) -> tuple[datetime, date, date]:
    """The first instant and the first and last local days of a `days`-long window."""
    now = now or timezone.now()
    last = timezone.localdate(now)
    first = last - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    return start, first, last


def snapshots_by_status(scope: Scope) -> ChartData:
    """Live snapshots per status, in the order the statuses are declared (one query)."""
    rows = dict(
        visible_snapshots(scope)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    labels, data = [], []
    known = [s.value for s in Status]
    for status in known + sorted(set(rows) - set(known)):
        if rows.get(status):
            labels.append(status)
            data.append(rows[status])
    return ChartData(labels, [Series("Snapshots", data)])


def snapshots_by_project(scope: Scope) -> tuple[ChartData, ChartData]:
    """Live snapshots and their total size (GiB) per project, largest count first (two queries:
    the totals, then `project_names`)."""
    rows = list(
        visible_snapshots(scope)
        .order_by()
        .values("project_id")
        .annotate(n=Count("id"), gib=Sum("size"), name=Max("project_name"))
        .order_by("-n", "project_id")
    )
    top, rest = rows[:TOP_PROJECTS], rows[TOP_PROJECTS:]
    names = project_names(scope)
    # Drawn on a canvas, where markup cannot flag them: hidden characters as visible markers.
    labels = [reveal_text(names.get(r["project_id"]) or r["name"] or r["project_id"]) for r in top]
    counts = [r["n"] for r in top]
    sizes = [r["gib"] or 0 for r in top]
    if rest:
        labels.append("Other projects")
        counts.append(sum(r["n"] for r in rest))
        sizes.append(sum(r["gib"] or 0 for r in rest))
    return (
        ChartData(labels, [Series("Snapshots", counts)]),
        ChartData(labels, [Series("Total size (GiB)", sizes)]),
    )


def _per_day(rows: QuerySet, field: str) -> dict[date, int]:
    """How many of `rows` fall on each day of `field` (one grouped query)."""
    return dict(
        rows.annotate(day=TruncDate(field))
        .order_by()
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )


def created_per_day(
    scope: Scope, *, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> ChartData:
    """Snapshots created on each of the last `days` days, deleted ones included (one query)."""
    start, first, last = _window(days, now)
    rows = _per_day(
        visible_snapshots(scope, include_deleted=True).filter(created_at__gte=start), "created_at"
    )
    labels = _days(first, last)
    return ChartData(
        [d.isoformat() for d in labels], [Series("Created", [rows.get(d, 0) for d in labels])]
    )


def creating_to_available(scope: Scope) -> Durations:
    """How long snapshots took from `creating` to `available` (two aggregate queries).

    Each StatusChange creating -> available is paired with the latest change into `creating`
    of the same snapshot before it; snapshots first seen already available have no pair.
    """
    entered = (
        StatusChange.objects.filter(
            snapshot_id=OuterRef("snapshot_id"),
            to_status=Status.CREATING,
            observed_at__lte=OuterRef("observed_at"),
            id__lt=OuterRef("id"),
        )
        .order_by("-observed_at", "-id")
        .values("observed_at")[:1]
    )
    pairs = (
        restrict(StatusChange.objects.all(), scope)
        .filter(from_status=Status.CREATING, to_status=Status.AVAILABLE)
        .annotate(started=Subquery(entered, output_field=DateTimeField()))
        .filter(started__isnull=False)
        .annotate(
            took=ExpressionWrapper(F("observed_at") - F("started"), output_field=DurationOutput())
        )
    )
    whens = [
        When(took__lt=timedelta(seconds=edge), then=Value(i))
        for i, edge in enumerate(DURATION_EDGES)
    ]
    bucket = Case(*whens, default=Value(len(DURATION_EDGES)), output_field=IntegerField())
    counts = dict(
        pairs.annotate(bucket=bucket)
        .order_by()
        .values_list("bucket")
        .annotate(n=Count("id"))
        .values_list("bucket", "n")
    )
    stats = pairs.order_by().aggregate(n=Count("id"), avg=Avg("took"), longest=Max("took"))
    histogram = ChartData(
        list(DURATION_LABELS),
        [Series("Snapshots", [counts.get(i, 0) for i in range(len(DURATION_LABELS))])],
    )
    return Durations(
        histogram=histogram,
        count=stats["n"],
        average_seconds=_seconds(stats["avg"]),
        longest_seconds=_seconds(stats["longest"]),
    )


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite hands back microseconds for computed durations


def failures_per_day(
    scope: Scope, *, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> ChartData:
    """Per day: snapshots that entered a failed status, and actions Cinder refused or that
    could not reach the cloud (two queries)."""
    start, first, last = _window(days, now)
    into_failed = _per_day(
        restrict(StatusChange.objects.all(), scope).filter(
            to_status__in=FAILED, observed_at__gte=start
        ),
        "observed_at",
    )
    refused = _per_day(
        restrict(AuditEvent.objects.all(), scope).filter(
            outcome__in=(Outcome.REFUSED, Outcome.FAILED), created_at__gte=start
        ),
        "created_at",
    )
    labels = _days(first, last)
    return ChartData(
        [d.isoformat() for d in labels],
        [
            Series("Snapshots entering error", [into_failed.get(d, 0) for d in labels]),
            Series("Actions refused or failed", [refused.get(d, 0) for d in labels]),
        ],
    )


def _listing(qs: QuerySet[Snapshot], order: tuple[str, ...], limit: int) -> Listing:
    totals = qs.order_by().aggregate(n=Count("id"), gib=Sum("size"))
    rows = list(qs.order_by(*order)[:limit]) if totals["n"] else []
    return Listing(count=totals["n"], total_size=totals["gib"] or 0, rows=rows)


def stuck_now(scope: Scope, *, limit: int = LIST_LIMIT) -> Listing:
    """Live snapshots the workers flagged as stuck, longest stuck first (two queries)."""
    return _listing(stuck_snapshots(scope), ("stuck_since", "id"), limit)


def stuck_by_status(scope: Scope) -> ChartData:
    """Stuck snapshots per status (one query)."""
    rows = (
        stuck_snapshots(scope)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by("status")
        .values_list("status", "n")
    )
    pairs = list(rows)
    return ChartData([s for s, _ in pairs], [Series("Stuck", [n for _, n in pairs])])


def without_volume(scope: Scope, *, limit: int = LIST_LIMIT) -> Listing:
    """Live snapshots whose volume the mirror does not hold, or holds as deleted (two queries)."""
    live_volumes = Volume.objects.filter(deleted_at__isnull=True).values("id")
    qs = visible_snapshots(scope).exclude(volume_id__in=live_volumes)
    return _listing(qs, ("created_at", "id"), limit)


def older_than(
    scope: Scope,
    *,
    days: int = DEFAULT_OLDER_THAN,
    now: datetime | None = None,
    limit: int = LIST_LIMIT,
) -> Listing:
    """Live snapshots created more than `days` days ago, oldest first (two queries)."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    qs = visible_snapshots(scope).filter(created_at__lt=cutoff)
    return _listing(qs, ("created_at", "id"), limit)


@dataclass(frozen=True)
class Overview:
    by_status: ChartData
    by_project: ChartData
    size_by_project: ChartData
    created: ChartData
    durations: Durations
    failures: ChartData
    stuck: Listing
    stuck_statuses: ChartData
    orphaned: Listing
    old: Listing
    older_than_days: int
    days: int

    def charts(self) -> dict[str, dict]:
        """Chart id -> Chart.js data, for json_script."""
        return {
            "by_status": self.by_status.as_json(),
            "by_project": self.by_project.as_json(),
            "size_by_project": self.size_by_project.as_json(),
            "created_per_day": self.created.as_json(),
            "creating_to_available": self.durations.histogram.as_json(),
            "failures_per_day": self.failures.as_json(),
            "stuck_by_status": self.stuck_statuses.as_json(),
        }


def overview(
    scope: Scope,
    *,
    days: int = DEFAULT_DAYS,
    older_than_days: int = DEFAULT_OLDER_THAN,
    now: datetime | None = None,
) -> Overview:
    """Everything the overview page shows, in a bounded number of queries."""
    now = now or timezone.now()
    by_project, size_by_project = snapshots_by_project(scope)
    return Overview(
        by_status=snapshots_by_status(scope),
        by_project=by_project,
        size_by_project=size_by_project,
        created=created_per_day(scope, days=days, now=now),
        durations=creating_to_available(scope),
        failures=failures_per_day(scope, days=days, now=now),
        stuck=stuck_now(scope),
        stuck_statuses=stuck_by_status(scope),
        orphaned=without_volume(scope),
        old=older_than(scope, days=older_than_days, now=now),
        older_than_days=older_than_days,
        days=days,
    )
