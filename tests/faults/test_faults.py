"""The fault suite: the production shape (gunicorn, worker, one beat, PostgreSQL, Redis, the
simulator) as real processes, one fault at a time, and after each the checks of checks.py.

`python -m pytest -m faults tests/faults` (needs redis-server and PostgreSQL's binaries, which
.ci/run installs; it starts its own servers so that it may stop them).
"""

from __future__ import annotations

import signal
import time
import uuid
from datetime import datetime

import pytest

from tests.faults import checks
from tests.faults.conftest import CLOUD_TIMEOUT, DETECT_PERIOD, SWEEP_TICK, SYNC_PERIOD
from tests.production import shape

pytestmark = pytest.mark.faults


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_during(cloud, person, volume, prefix: str, **fault) -> checks.Attempt:
    """A create sent while the simulator has `fault`, cleared again whatever happens."""
    cloud.faults(**fault)
    try:
        return checks.create(person, volume, unique(prefix))
    finally:
        cloud.clear_faults()


def test_a_cloud_slower_than_the_timeout(faulty, cloud, person, volume):
    """Cinder acts, but answers after the action's timeout: the outcome is unknown, not failed;
    the worker finds the snapshot and the audit and the result page say it was done."""
    delay = int((CLOUD_TIMEOUT + 3) * 1000)
    attempt = create_during(cloud, person, volume, "slow", answer_delay_ms=delay)
    checks.check(faulty, cloud, faulty.database, [attempt], SYNC_PERIOD)


def test_a_hung_cloud_sigstop(faulty, cloud, person, volume):
    """The simulator stops (SIGSTOP) while a create is sent, and resumes after the timeout: the
    request waiting in its socket is then carried out."""
    page_ready = person.get("/snapshots/create/")
    assert page_ready.status_code == 200
    cloud.pause()
    try:
        attempt = checks.create(person, volume, unique("hung"), resend=False)
    finally:
        cloud.resume()
    checks.send_again_unless_done(person, attempt)  # the cloud is back: the kept form again
    checks.check(faulty, cloud, faulty.database, [attempt], SYNC_PERIOD)


def test_cinder_answers_500(faulty, cloud, person, volume):
    attempt = create_during(cloud, person, volume, "err500", create_error_rate=1.0)
    checks.check(faulty, cloud, faulty.database, [attempt], SYNC_PERIOD)


def test_redis_stopped_then_restarted(faulty, cloud, person, volume):
    """With the broker down a create is done and said so (never a 500); the worker survives the
    broker's return and the beat's tracking brings the mirror up to date."""
    faulty.redis.stop()
    try:
        attempt = checks.create(person, volume, unique("noredis"), resend=False)
        assert attempt.answers[-1].status_code == 302, attempt.told()
        time.sleep(3)
        faulty.assert_running()
    finally:
        faulty.redis.start()
    checks.check(faulty, cloud, faulty.database, [attempt], SYNC_PERIOD)


def test_postgresql_restarted(faulty, cloud, person, volume):
    faulty.postgres.restart()
    time.sleep(2)
    attempt = checks.create(person, volume, unique("pgrestart"))
    checks.check(faulty, cloud, faulty.database, [attempt], SYNC_PERIOD)


def test_a_worker_killed_mid_sync_is_taken_over_within_a_tick(faulty, cloud, person, volume):
    """kill -9 of the worker while it sweeps (the cloud slowed so that a tick takes a while);
    a new worker starts (compose restarts it); a snapshot made outside the dashboard must reach
    the mirror within one sweep period of the new worker being ready: the dead worker's leases
    are short, so detection and the sweep go on at once."""
    since = datetime.utcnow()
    cloud.faults(latency_ms=400)
    shape.wait_for(
        "a sync in progress",
        lambda: any(
            "Task snapshots.tasks.sweep[" in line and " received" in line
            for line in faulty.logs("worker").splitlines()[-50:]
            if line[1:20] >= since.strftime("%Y-%m-%d %H:%M:%S")
        ),
        timeout=SYNC_PERIOD * 3,
    )
    time.sleep(1)
    faulty.procs["worker"].signal(signal.SIGKILL)
    faulty.procs["worker"].popen.wait(10)
    cloud.clear_faults()
    worker = faulty.start("worker")
    worker.wait_for_line(" ready.", timeout=90)
    outside = cloud.create_snapshot("alpha", name=unique("outside"), status="available")
    try:
        shape.wait_for(
            "the snapshot made outside in the mirror",
            lambda: outside["id"] in checks.mirror_snapshots(faulty.database),
            timeout=SYNC_PERIOD + 5,
        )
    except AssertionError as exc:
        ticks = checks.worker_log_events(faulty, "snapshots.tasks.detect", since)
        raise AssertionError(f"{exc}; the detect ticks since the kill said: {ticks}") from None
    checks.check(faulty, cloud, faulty.database, [], SYNC_PERIOD)


def test_two_beats_do_not_double_the_work(faulty, cloud, person, volume):
    """A second `celery beat` by mistake (two hosts each running one): the sweep and detection
    ticks that do work per period must stay as with one beat (each tick claims its period)."""
    commands = shape.compose_commands()
    second = [
        arg if not arg.endswith("celerybeat-schedule") else arg + "-second"
        for arg in commands["beat"]
    ]
    beat2 = faulty.start("beat-second", second)
    try:
        beat2.wait_for_line("beat: Starting", timeout=60)
        since = datetime.utcnow()
        window = SYNC_PERIOD * 3
        time.sleep(window)
        sweeps = [
            text
            for text in checks.worker_log_events(faulty, "snapshots.tasks.sweep", since)
            if "skipped" not in text
        ]
        detects = [
            text
            for text in checks.worker_log_events(faulty, "snapshots.tasks.detect", since)
            if "skipped" not in text
        ]
    finally:
        beat2.stop()
        faulty.procs.pop("beat-second", None)
    assert sweeps, "no sweep tick ran"
    assert len(sweeps) <= window / SWEEP_TICK + 1, f"{len(sweeps)} sweep ticks in {window:.0f} s"
    assert len(detects) <= window / DETECT_PERIOD + 2, (
        f"{len(detects)} detect ticks in {window:.0f} s"
    )
    checks.check(faulty, cloud, faulty.database, [], SYNC_PERIOD)
