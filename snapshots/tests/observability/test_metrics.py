"""/metrics after a scripted sequence against the simulator: exact gauge and counter values,
access control, bounded labels and the per-project switch."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from snapshots.models import CloudState, Snapshot
from snapshots.observability import heartbeats
from snapshots.services import mirror, sync
from snapshots.tests.actions_helpers import signed_in, volumes_of

pytestmark = pytest.mark.django_db


def scrape(client: Client | None = None, **extra) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before, after, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def moves(before, after):
    """How far each series (named without the common prefix) moved between two scrapes."""

    def moved(name: str, **labels) -> float:
        return delta(before, after, f"snapshot_dashboard_{name}", **labels)

    return moved


def create(client: Client, volume_id: str, name: str) -> Snapshot:
    response = post_create(client, volume_id, name)
    assert response.status_code == 302, response.content[:500]
    return Snapshot.objects.get(name=name)


def track_all() -> None:
    """Read each of the test's transitional snapshots now (not a detection tick: that would
    also bring the demo cloud's own snapshots into the mirror)."""
    ids = list(Snapshot.objects.transitional().values_list("pk", flat=True))
    Snapshot.objects.filter(pk__in=ids).update(last_seen=timezone.now() - timedelta(minutes=5))
    for pk in ids:
        sync.track_snapshots(snapshot_id=pk)


@pytest.fixture
def sequence(cloud):
    """create (ends available), fail (ends in error), stuck (stays creating), refused action.

    The mirror starts empty, so every gauge below comes from these three snapshots only.
    """
    demo = signed_in(cloud, "demo", "alpha")
    volume = volumes_of(cloud)["db-replica"]["id"]
    before = scrape()
    ok = create(demo, volume, "m-ok")
    cloud.faults(create_error_rate=1.0)
    failed = create(demo, volume, "m-fail")
    cloud.clear_faults()
    cloud.advance(10)
    track_all()
    cloud.faults(stuck=["creating"])
    stuck = create(demo, volume, "m-stuck")
    cloud.advance(10)
    track_all()
    mirror.flag_stuck_rows(timezone.now() + timedelta(hours=2))
    refused = demo.post(f"/snapshots/{stuck.id}/delete/", {"idempotency_key": "k" * 32})
    cloud.clear_faults()
    return {
        "before": before,
        "after": scrape(),
        "ok": ok,
        "failed": failed,
        "stuck": stuck,
        "refused": refused,
        "alpha": cloud.project_id("alpha"),
    }


def test_scripted_sequence_gives_exact_values(sequence):
    before, after, alpha = sequence["before"], sequence["after"], sequence["alpha"]
    moved = moves(before, after)
    assert sequence["refused"].status_code == 409  # a creating snapshot cannot be deleted
    size = sequence["ok"].size * 1024**3

    def snapshots(status: str, stuck: str) -> float:
        return value(
            after, "snapshot_dashboard_snapshots", project=alpha, status=status, stuck=stuck
        )

    assert snapshots("available", "false") == 1
    assert snapshots("error", "false") == 1
    assert snapshots("creating", "true") == 1
    assert snapshots("creating", "false") == 0
    series = [k for k in after if k[0] == "snapshot_dashboard_snapshots"]
    assert len(series) == 3  # only what exists: no series for other projects or statuses
    assert value(after, "snapshot_dashboard_snapshot_size_bytes", project=alpha) == 3 * size
    assert value(after, "snapshot_dashboard_snapshot_failures_total", status="error") == 1
    assert value(after, "snapshot_dashboard_snapshot_failures_total", status="error_deleting") == 0

    assert moved("audit_events_total", action="create_snapshot", outcome="success") == 3
    assert moved("audit_events_total", action="delete_snapshot", outcome="denied") == 1
    assert moved("refused_actions_total", action="delete_snapshot", refused_by="dashboard") == 1
    assert moved("cloud_requests_total", endpoint="create_snapshot", outcome="ok") == 3
    assert moved("cloud_request_duration_seconds_count", endpoint="create_snapshot") == 3
    # each transitional snapshot read once per check: the first two creates, then the stuck one
    assert moved("cloud_requests_total", endpoint="get_snapshot", outcome="ok") == 3
    assert value(after, "snapshot_dashboard_cloud_up") == 1
    assert not any("snapshot_id" in dict(labels) or "user" in dict(labels) for _, labels in after)


def post_create(client: Client, volume_id: str, name: str):
    page = client.get("/snapshots/create/")
    key = re.search(rb'name="idempotency_key" value="([^"]+)"', page.content).group(1).decode()
    return client.post(
        "/snapshots/create/",
        {
            "idempotency_key": key,
            "volume": volume_id,
            "name": name,
            "description": "",
            "meta-TOTAL_FORMS": "0",
            "meta-INITIAL_FORMS": "0",
            "meta-MIN_NUM_FORMS": "0",
            "meta-MAX_NUM_FORMS": "1000",
        },
    )


def test_a_refusal_by_cinder_is_counted_with_its_outcome(cloud):
    demo = signed_in(cloud, "demo", "alpha")
    volume = volumes_of(cloud)["db-replica"]["id"]
    before = scrape()
    cloud.set_quota("alpha", snapshots=0)
    assert post_create(demo, volume, "over-quota").status_code == 400
    moved = moves(before, scrape())
    assert moved("refused_actions_total", action="create_snapshot", refused_by="cinder") == 1
    assert moved("audit_events_total", action="create_snapshot", outcome="refused") == 1
    assert moved("cloud_requests_total", endpoint="create_snapshot", outcome="over_quota") == 1
    assert moved("cloud_requests_total", endpoint="create_snapshot", outcome="ok") == 0


def test_a_failed_cloud_call_is_counted_with_its_outcome(cloud):
    demo = signed_in(cloud, "demo", "alpha")
    volume = volumes_of(cloud)["db-replica"]["id"]
    before = scrape()
    cloud.faults(cinder_down=True)
    post_create(demo, volume, "while-down")
    cloud.clear_faults()
    after = scrape()
    failed = {
        dict(labels)["outcome"]: v - value(before, name, **dict(labels))
        for (name, labels), v in after.items()
        if name == "snapshot_dashboard_cloud_requests_total"
        and dict(labels)["endpoint"] == "create_snapshot"
    }
    changed = {outcome for outcome, n in failed.items() if n}
    assert sum(failed.values()) == 1
    # a 5xx answer to a change: Cinder may have acted, so the outcome is unknown
    assert changed == {"outcome_unknown"}


def test_cloud_state_sync_age_and_heartbeats(cloud):
    sync.sync_snapshots()
    heartbeats.record(heartbeats.WORKER, now=timezone.now() - timedelta(seconds=42))
    state = CloudState.objects.get(id=1)
    samples = scrape()
    assert value(samples, "snapshot_dashboard_last_successful_sync_timestamp_seconds") == (
        pytest.approx(state.last_sync_ok_at.timestamp())
    )
    assert 0 <= value(samples, "snapshot_dashboard_mirror_age_seconds") < 30
    assert 42 <= value(samples, "snapshot_dashboard_heartbeat_age_seconds", role="worker") < 60
    CloudState.objects.filter(id=1).update(reachable=False)
    assert value(scrape(), "snapshot_dashboard_cloud_up") == 0


def test_detection_lag_is_how_late_the_most_overdue_check_is(cloud):
    sync.sync_snapshots()
    now = timezone.now()
    rows = Snapshot.objects.transitional()
    assert rows.count() >= 2
    rows.update(next_check_at=now + timedelta(hours=1))
    Snapshot.objects.filter(pk=rows.first().pk).update(next_check_at=now - timedelta(seconds=90))
    lag = value(scrape(), "snapshot_dashboard_detection_lag_seconds")
    assert 90 <= lag < 120


def test_per_project_series_can_be_aggregated_away(cloud, settings):
    sync.sync_snapshots()
    settings.METRICS_PER_PROJECT = False
    samples = scrape()
    by_status = {
        (dict(labels)["status"], dict(labels)["stuck"]): v
        for (name, labels), v in samples.items()
        if name == "snapshot_dashboard_snapshots"
    }
    assert all("project" not in dict(labels) for _, labels in samples)
    live = Snapshot.objects.live()
    assert sum(by_status.values()) == live.count()
    assert (
        by_status[("available", "false")]
        == live.filter(status="available", stuck_since__isnull=True).count()
    )
    total = sum(live.values_list("size", flat=True)) * 1024**3
    assert value(samples, "snapshot_dashboard_snapshot_size_bytes") == total


def test_access_needs_the_token_or_an_allowed_address(db, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    client = Client(REMOTE_ADDR="192.0.2.7")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert ok.status_code == 200
    assert b"snapshot_dashboard_cloud_up" in ok.content
    assert Client(REMOTE_ADDR="10.2.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.2.3.4").post("/metrics").status_code == 405
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert Client().get("/metrics").status_code == 404  # nothing configured: closed


def test_metrics_page_is_a_fixed_number_of_queries(cloud, django_assert_max_num_queries):
    sync.sync_snapshots()
    with django_assert_max_num_queries(5):
        scrape()


def test_task_durations_and_failures_come_from_celery_signals(db):
    from celery import shared_task

    from snapshots.observability import tasks

    @shared_task(name="tests.observability.boom")
    def boom():
        raise RuntimeError("boom")

    before = scrape()
    tasks.heartbeat.apply()
    boom.apply()
    moved = moves(before, scrape())
    assert moved("task_duration_seconds_count", task=tasks.HEARTBEAT_TASK) == 1
    assert moved("task_failures_total", task="tests.observability.boom") == 1
    assert moved("task_failures_total", task=tasks.HEARTBEAT_TASK) == 0


def test_the_registry_collector_and_the_fast_text_agree(cloud, settings):
    from prometheus_client import CollectorRegistry, generate_latest

    from snapshots.observability import collector

    sync.sync_snapshots()
    Snapshot.objects.filter(status="creating").update(stuck_since=timezone.now())
    for per_project in (True, False):
        settings.METRICS_PER_PROJECT = per_project
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector.MirrorCollector())

        def parsed(text: bytes) -> dict:
            return {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for f in text_string_to_metric_families(text.decode())
                for s in f.samples
                if "age_seconds" not in s.name and "lag_seconds" not in s.name
            }

        fast = parsed(collector.exposition(collector.gather()))
        assert fast == parsed(generate_latest(registry))
        assert any(dict(k[1]).get("stuck") == "true" for k in fast)
