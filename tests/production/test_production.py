"""CI runs what production runs: the compose services' own commands, from a virtualenv with
requirements.txt alone, on PostgreSQL and Redis, and a person's create and delete through HTTP.

`python -m pytest -m production tests/production` with DATABASE_URL (PostgreSQL) and REDIS_URL
set (.ci/run starts both); it fails without them.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings

from snapshots.tests.live_tabs import Tab
from tests.production import shape
from tests.production.client import Visitor

pytestmark = pytest.mark.production


def test_compose_and_the_dockerfile_run_what_this_suite_runs(stack):
    commands = shape.compose_commands()
    assert set(commands) == {"migrate", "web", "live", "worker", "beat"}
    for name in shape.LONG_RUNNING:
        assert stack.procs[name].cmd == stack.translate(commands[name])
    # The image's default command is the web service's; exactly one beat, none in the worker.
    assert shape.dockerfile().cmd == commands["web"]
    assert commands["web"][0] == "gunicorn"
    assert commands["live"][:2] == ["uvicorn", "dashboard.asgi:application"]
    assert commands["worker"][:4] == ["celery", "-A", "dashboard", "worker"]
    assert "-B" not in commands["worker"] and "--beat" not in commands["worker"]
    assert commands["beat"][:4] == ["celery", "-A", "dashboard", "beat"]
    assert commands["migrate"] == ["python", "manage.py", "migrate", "--noinput"]
    assert "collectstatic" in shape.dockerfile().collectstatic


def test_gunicorn_reads_its_config_file(stack):
    import subprocess

    web = stack.translate(shape.compose_commands()["web"])
    printed = subprocess.run(
        [str(stack.venv / "bin" / web[0]), "--print-config", *web[1:]],
        cwd=shape.ROOT, env=stack.environment(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pairs = [line.split("=", 1) for line in printed.splitlines() if "=" in line]
    config = {key.strip(): value.strip() for key, value in pairs}
    assert config["keepalive"] == "75"  # deploy/gunicorn.conf.py
    assert int(config["max_requests"]) > 0
    assert (config["workers"], config["threads"]) == ("3", "4")
    assert config["bind"] == f"['127.0.0.1:{stack.port}']"  # GUNICORN_BIND, set for loopback


def test_the_venv_holds_requirements_txt_and_nothing_else(stack):
    import subprocess

    frozen = subprocess.run(
        [str(stack.venv / "bin" / "python"), "-m", "pip", "freeze", "--all"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    installed = {
        line.split("==")[0].lower().replace("_", "-")
        for line in frozen.splitlines()
        if "==" in line
    }
    wanted = {
        line.split("==")[0].lower().replace("_", "-")
        for line in shape.REQUIREMENTS.read_text().splitlines()
        if "==" in line
    }
    assert installed - {"pip", "setuptools", "wheel"} == wanted
    assert "pytest" not in installed


def test_a_member_creates_sees_it_available_deletes_it_and_the_audit_says_so(stack, cloud):
    info = cloud.info()
    alpha = info["projects"]["alpha"]
    volume = next(
        v for v in info["volumes"] if v["project_id"] == alpha and v["status"] == "available"
    )
    name = f"prod-{uuid.uuid4().hex[:8]}"
    person = Visitor(stack.url)
    person.sign_in("demo", "secret", project_id=alpha)

    answer = person.create(volume["id"], name, description="production shape")
    assert answer.status_code == 302, person.messages(answer)[:1000]
    snapshot_id = answer.headers["Location"].split("highlight=")[1]

    # The worker (tracking through Redis) and the beat turn it available in the mirror.
    shape.wait_for(
        "the detail page showing it available",
        lambda: "available" in person.status(snapshot_id),
        timeout=60,
    )
    answer = person.delete(snapshot_id)
    assert answer.status_code == 302, person.messages(answer)[:1000]

    token = cloud.token("admin", "alpha")

    def gone_from_cloud() -> bool:
        url = f"{cloud.volume_endpoint('alpha')}/snapshots/{snapshot_id}"
        return cloud.http.get(url, headers={"X-Auth-Token": token}, timeout=30).status_code == 404

    shape.wait_for("the snapshot gone from the cloud", gone_from_cloud, timeout=60)
    shape.wait_for(
        "the mirror marking it deleted",
        lambda: stack.database.query(
            "SELECT deleted_at FROM snapshots_snapshot WHERE id = %s", snapshot_id
        )[0][0],
        timeout=60,
    )

    events = stack.database.query(
        "SELECT action, outcome, actor_name FROM snapshots_auditevent "
        "WHERE target_id = %s ORDER BY id",
        snapshot_id,
    )
    assert events == [
        ("create_snapshot", "success", "demo"),
        ("delete_snapshot", "success", "demo"),
    ]
    auditor = Visitor(stack.url)
    auditor.sign_in("auditor", "secret", project_id=alpha)
    page = auditor.get("/snapshots/audit/", params={"q": name})
    assert page.status_code == 200
    assert name in page.text
    assert "could not send" not in stack.logs("web"), "the follow-up went through Redis"
    stack.assert_running()


def test_an_open_tab_is_told_by_the_live_service_when_its_snapshot_becomes_available(stack, cloud):
    """The page (gunicorn) hands the tab its ticket; the live service (uvicorn, as compose runs
    it) tells the tab the moment the workers record the change, with no check from the tab."""
    info = cloud.info()
    alpha = info["projects"]["alpha"]
    volume = next(
        v for v in info["volumes"] if v["project_id"] == alpha and v["status"] == "available"
    )
    person = Visitor(stack.url)
    person.sign_in("demo", "secret", project_id=alpha)
    answer = person.create(volume["id"], f"told-{uuid.uuid4().hex[:8]}")
    assert answer.status_code == 302, person.messages(answer)[:1000]
    snapshot_id = answer.headers["Location"].split("highlight=")[1]

    page = person.get(f"/snapshots/{snapshot_id}/").text
    poller = re.search(r'id="detail-poller"[^>]*', page)
    assert poller, "a creating snapshot's page watches it"
    ticket = re.search(r'data-live-ticket="([^"]+)"', poller.group(0)).group(1)
    assert f'data-stream-url="{settings.LIVE_STREAM_PATH}"' in poller.group(0)

    tab = Tab(stack.live_url + settings.LIVE_STREAM_PATH, ticket)
    try:
        assert tab.answer.status_code == 200
        first = tab.wait(1)
        assert first, "the stream tells the tab its stamp at once"
        shape.wait_for(
            "the detail page showing it available",
            lambda: "available" in person.status(snapshot_id),
            timeout=60,
        )
        shape.wait_for("the tab told of the change", lambda: len(tab.stamps) >= 2, timeout=10)
        assert tab.stamps[-1] > first[0]
    finally:
        tab.close()
    person.delete(snapshot_id)
    stack.assert_running()
