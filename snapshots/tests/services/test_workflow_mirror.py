"""What the workers mirror for the snapshot workflows: quota usage, user messages, volumes
followed from `creating` to `available`. Against the simulator over HTTP."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from snapshots.choices import ChangeSource
from snapshots.cloud.credentials import service_gateway
from snapshots.models import ProjectQuota, UserMessage, Volume
from snapshots.services import messages, mirror, quota, volume_tracking
from snapshots.tests.actions_helpers import (
    make_snapshot,
    mirrored_fixture,  # noqa: F401 (the fixture)
)


def test_refresh_quotas_reads_every_known_projects_usage(mirrored):
    mirrored.set_quota("alpha", snapshots=60, gigabytes=4000)
    result = quota.refresh_quotas()
    assert result.refreshed >= 3 and result.failed == 0
    alpha = ProjectQuota.objects.get(pk=mirrored.project_id("alpha"))
    limits = service_gateway().get_quota_usage(mirrored.project_id("alpha"))
    assert (alpha.snapshots_limit, alpha.gigabytes_limit) == (60, 4000)
    assert alpha.snapshots_used == limits.snapshots_used > 0
    assert alpha.snapshots_left == 60 - limits.snapshots_used
    assert alpha.volumes_left is None or alpha.volumes_left >= 0


def test_quota_refusal_says_what_is_left(mirrored):
    q = ProjectQuota(project_id="p", snapshots_limit=5, snapshots_used=5, gigabytes_limit=100)
    q.gigabytes_used = 90
    assert "snapshots quota" in quota.quota_refusal(q, snapshots=1)
    assert "0 left of 5" in quota.quota_refusal(q, snapshots=1)
    assert "10 GiB left" in quota.quota_refusal(q, gigabytes=20)
    assert quota.quota_refusal(q, gigabytes=10) == ""
    unlimited = ProjectQuota(project_id="u")
    assert quota.quota_refusal(unlimited, snapshots=10**6, gigabytes=10**6) == ""
    assert quota.quota_refusal(None, snapshots=1) == ""


def test_messages_are_fetched_only_while_something_failed(mirrored):
    UserMessage.objects.all().delete()
    # the demo cloud has error snapshots but no messages yet
    mirrored.reset_stats()
    volume = mirrored.create_volume("alpha", size=1)
    mirrored.faults(create_error_rate=1.0)
    made = service_gateway().create_snapshot(volume_id=volume["id"])
    mirrored.advance(5)
    mirrored.clear_faults()
    row = make_snapshot_from(made.id)
    assert row.status == "error"
    result = messages.refresh_messages()
    assert result.fetched >= 1
    found = messages.messages_for(row.id)
    assert found and found[0].user_message.startswith("create snapshot:")
    assert messages.latest_message_by_resource([row.id]) == {row.id: found[0].user_message}


def test_no_failure_no_call(mirrored):
    from snapshots.models import Snapshot

    Snapshot.objects.filter(status__in=["error", "error_deleting"]).update(status="available")
    Volume.objects.filter(status="error").update(status="available")
    mirrored.reset_stats()
    assert messages.refresh_messages().skipped
    assert mirrored.stats()["total"] == 0


def test_messages_cinder_dropped_are_dropped(mirrored):
    UserMessage.objects.create(id="gone-one", resource_uuid="x", user_message="old")
    messages.refresh_messages(force=True)
    assert not UserMessage.objects.filter(pk="gone-one").exists()


def test_track_volumes_follows_creating_to_available(mirrored):
    snap = make_snapshot(mirrored, "alpha", "available")
    made, _receipt = service_gateway().create_volume(snapshot_id=snap.id, size=snap.size, name="v")
    mirror.apply_volume_page([made], now=timezone.now())
    assert Volume.objects.get(pk=made.id).status == "creating"
    assert volume_tracking.track_volumes().checked == 1
    assert Volume.objects.get(pk=made.id).status == "creating"
    mirrored.advance(5)
    volume_tracking.track_volumes(volume_id=made.id)
    assert Volume.objects.get(pk=made.id).status == "available"
    assert volume_tracking.track_volumes().checked == 0


def make_snapshot_from(snapshot_id: str):
    from snapshots.choices import ChangeSource

    row, _ = mirror.apply(service_gateway().get_snapshot(snapshot_id), source=ChangeSource.SYNC)
    return row


def test_a_beat_tick_reads_a_bounded_number_of_projects_stalest_first(mirrored, settings):
    settings.QUOTA_PROJECTS_PER_TICK = 2
    settings.QUOTA_MAX_AGE = 0  # every read is old at once: the order alone decides
    known = sorted(quota.known_projects())
    assert len(known) >= 3
    first = quota.refresh_quotas()
    assert first.refreshed == 2
    read_first = set(ProjectQuota.objects.values_list("project_id", flat=True))
    second = quota.refresh_quotas()
    assert second.refreshed == 2
    # the project never read comes before those read a tick ago
    never_read = set(known) - read_first
    assert never_read <= set(ProjectQuota.objects.values_list("project_id", flat=True))
    stalest = ProjectQuota.objects.order_by("refreshed_at").first().project_id
    assert quota.due_projects(1) == [stalest]


def test_at_idle_a_quota_is_read_again_only_when_old_or_when_the_project_changed(
    mirrored, settings
):
    settings.QUOTA_MAX_AGE = 600
    quota.refresh_quotas()
    mirrored.reset_stats()
    assert quota.due_projects() == []
    assert quota.refresh_quotas().refreshed == 0  # nothing changed: no call
    assert mirrored.stats()["total"] == 0
    # a snapshot of alpha appears and goes, as the sweep or the notifications see it
    alpha = mirrored.project_id("alpha")
    gone = make_snapshot(mirrored, "alpha", "available")
    mirror.mark_gone(gone.id, source=ChangeSource.SYNC)
    assert quota.due_projects() == [alpha]
    assert quota.refresh_quotas().refreshed == 1
    assert quota.due_projects() == []
    # an old read is read again even when nothing changed (limits an admin set)
    beta = mirrored.project_id("beta")
    ProjectQuota.objects.filter(pk=beta).update(
        refreshed_at=timezone.now() - timedelta(seconds=601)
    )
    assert quota.due_projects() == [beta]


def test_messages_are_read_again_on_a_new_failure_or_when_old(mirrored, settings):
    settings.MESSAGES_MAX_AGE = 300
    assert messages.anything_failed()  # the demo cloud has error snapshots
    assert not messages.refresh_messages().skipped
    mirrored.reset_stats()
    assert messages.refresh_messages().skipped  # read just now, nothing newly failed
    assert mirrored.stats()["total"] == 0
    make_snapshot(mirrored, "alpha", "error")  # seen for the first time, in error
    assert not messages.refresh_messages().skipped  # a snapshot newly failed
    assert messages.refresh_messages().skipped
    cache.set(messages.READ_AT_KEY, timezone.now() - timedelta(seconds=301))
    assert not messages.refresh_messages().skipped  # old


def test_a_followed_volume_that_fails_reads_why_at_once(mirrored):
    snap = make_snapshot(mirrored, "alpha", "available")
    mirrored.faults(create_error_rate=1.0)
    made, _receipt = service_gateway().create_volume(snapshot_id=snap.id, size=snap.size, name="v")
    mirror.apply_volume_page([made], now=timezone.now())
    mirrored.advance(5)
    mirrored.clear_faults()
    UserMessage.objects.all().delete()
    volume_tracking.track_volumes(volume_id=made.id)
    assert Volume.objects.get(pk=made.id).status == "error"
    assert messages.messages_for(made.id), "the volume's failure message is in the mirror"
