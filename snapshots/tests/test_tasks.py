"""The Celery tasks: names, delivery and retry options, and their thin bodies run in-process
(`Task.apply`, one task at a time; the logic itself is tested in tests/services/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from dashboard.celery import app
from snapshots import tasks
from snapshots.cloud import credentials, errors
from snapshots.models import CloudState, Snapshot, WorkerLock
from snapshots.observability import tasks as service_tasks  # what CELERY_INCLUDE loads
from snapshots.services import locks, queue, sync

pytestmark = pytest.mark.django_db

VOLUME_LIST = "GET /volume/v3/{project_id}/volumes/detail"


def test_beat_and_the_actions_name_tasks_that_exist(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "snapshots.tasks.detect",
        "snapshots.tasks.sweep",
        "snapshots.tasks.forget_operations",
        "snapshots.tasks.track_volumes",
        "snapshots.tasks.refresh_quotas",
        "snapshots.tasks.refresh_messages",
        "snapshots.tasks.reconcile_unsettled",
        "snapshots.tasks.clear_sessions",
        "snapshots.tasks.log_audit_head",
        "snapshots.observability.tasks.heartbeat",
        "snapshots.observability.tasks.evaluate_alerts",
    }
    assert service_tasks.__name__ in settings.CELERY_INCLUDE
    assert scheduled <= set(app.tasks)
    # sync (a whole sweep on demand) and track (what the actions enqueue) still exist
    assert tasks.sync.name == "snapshots.tasks.sync" and tasks.track.name == "snapshots.tasks.track"


@pytest.mark.parametrize(
    "task",
    [
        tasks.sync,
        tasks.track,
        tasks.detect,
        tasks.sweep,
        tasks.track_volumes,
        tasks.refresh_quotas,
        tasks.refresh_messages,
    ],
    ids=["sync", "track", "detect", "sweep", "track_volumes", "refresh_quotas", "refresh_messages"],
)
def test_tasks_ack_late_and_retry_only_outages_a_finite_number_of_times(task):
    assert task.acks_late and task.reject_on_worker_lost
    assert task.autoretry_for == (errors.Unavailable,)
    assert 0 < task.max_retries <= 5
    assert task.retry_backoff and task.retry_jitter and task.retry_backoff_max <= 300
    assert 0 < task.soft_time_limit < task.time_limit


def test_the_sync_task_runs_the_sync(cloud):
    result = tasks.sync.apply()
    assert result.successful()
    assert result.get().startswith(f"synced {Snapshot.objects.count()} snapshots")


def test_an_outage_is_retried_a_few_times_then_given_up(cloud):
    cloud.faults(cinder_down=True)
    cloud.reset_stats()
    result = tasks.sync.apply()  # eager: the retries run at once, without their countdown
    assert result.failed() and isinstance(result.result, errors.Unavailable)
    attempts = cloud.stats()["by_route"].get(VOLUME_LIST, 0)
    assert attempts == tasks.sync.max_retries + 1
    assert CloudState.get().reachable is False


def test_a_refusal_is_recorded_but_not_retried(cloud, settings, tmp_path):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        Path(settings.OS_CLIENT_CONFIG_FILE).read_text().replace("password: secret", "password: x")
    )
    settings.OS_CLIENT_CONFIG_FILE = str(wrong)
    credentials.reset_service_gateway()
    cloud.reset_stats()
    with pytest.raises(errors.NotAuthenticated):
        sync.sync_snapshots()
    one_attempt = cloud.stats()["total"]
    credentials.reset_service_gateway()
    cloud.reset_stats()

    result = tasks.sync.apply()

    assert result.failed() and isinstance(result.result, errors.NotAuthenticated)
    assert cloud.stats()["total"] == one_attempt
    assert CloudState.get().reachable is False and CloudState.get().last_error


def test_an_unknown_snapshot_asked_for_is_an_answer_not_an_error(cloud):
    cloud.reset_stats()
    result = tasks.track.apply(kwargs={"snapshot_id": "no-such-snapshot"})
    assert result.successful()
    assert sum(v for k, v in cloud.stats()["by_route"].items() if "/snapshots" in k) == 1
    assert not Snapshot.objects.exists()


def test_a_held_lease_makes_the_task_a_no_op(cloud):
    other = locks.acquire(sync.SYNC_LOCK, ttl=60)
    result = tasks.sync.apply()
    assert result.successful() and result.get().startswith("skipped")
    assert not Snapshot.objects.exists()
    other.release()


def test_track_takes_no_argument_or_a_snapshot_id(cloud):
    tasks.sync.apply()
    row = Snapshot.objects.transitional().first()
    assert tasks.track.apply().successful()
    result = tasks.track.apply(kwargs={"snapshot_id": row.id})
    assert result.successful() and result.get().startswith("detected")


def test_what_the_actions_enqueue_runs(cloud, enqueued):
    tasks.sync.apply()
    row = Snapshot.objects.transitional().first()
    queue.send("snapshots.tasks.track", {"snapshot_id": row.id})
    assert enqueued == [("snapshots.tasks.track", {"snapshot_id": row.id})]
    for name, kwargs in enqueued:
        assert app.tasks[name].apply(kwargs=kwargs).successful()


def test_a_run_cut_short_leaves_no_lease_and_the_next_run_finishes(cloud, settings):
    settings.SYNC_PAGE_SIZE = 5

    def time_is_up(page: int, seen: int) -> None:
        if page == 2:
            raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        sync.sync_snapshots(on_page=time_is_up)
    assert Snapshot.objects.count() == 10
    assert WorkerLock.objects.get(name=sync.SYNC_LOCK).owner == ""
    assert tasks.sync.apply().get().startswith(f"synced {Snapshot.objects.count()} snapshots")
    assert Snapshot.objects.count() > 10


def test_old_idempotency_keys_are_forgotten_recent_ones_kept():
    from datetime import timedelta

    from django.utils import timezone

    from snapshots.models import Operation

    now = timezone.now()
    Operation.objects.create(key="old", actor_id="u", action="create_snapshot")
    Operation.objects.filter(key="old").update(created_at=now - timedelta(days=2))
    Operation.objects.create(key="fresh", actor_id="u", action="create_snapshot")
    result = tasks.forget_operations.apply()
    assert result.successful(), result.traceback
    assert result.result == "forgot 1 idempotency keys"
    assert list(Operation.objects.values_list("key", flat=True)) == ["fresh"]
