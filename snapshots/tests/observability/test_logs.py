"""LOG_FORMAT=json: one JSON object per line with request id, user, project and task id, and
no token or password in it (the redaction filter kept, exception text included)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import shared_task

from snapshots.logging_filters import RedactSecrets
from snapshots.observability.logs import ContextFilter, JsonFormatter

ROOT = Path(__file__).resolve().parents[3]
FERNET = "gAAAAABnRlY2x4ZXhhbXBsZXRva2VudGhhdGxvb2tzcmVhbA"


@pytest.fixture
def json_lines():
    """The root logger also writes JSON into a buffer, as the console handler does with
    LOG_FORMAT=json (same filters, same formatter); yields a function returning the objects."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactSecrets())
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db
def test_request_lines_carry_request_id_user_and_project(login, cloud, json_lines):
    client = login("demo", project="alpha")
    response = client.get("/snapshots/no-such-snapshot/")
    assert response.status_code == 404
    rid = response["X-Request-ID"]
    assert len(rid) == 32
    lines = [entry for entry in json_lines() if entry.get("request_id") == rid]
    assert lines, json_lines()
    entry = lines[-1]
    assert entry["logger"] == "django.request"
    assert entry["level"] == "WARNING"
    assert entry["user"] == "demo"
    assert entry["project"] == cloud.project_id("alpha")
    assert "task_id" not in entry


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_bad_one_replaced(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="edge-4f2a9c1d")
    assert kept["X-Request-ID"] == "edge-4f2a9c1d"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID='bad"id\n<script>')
    assert replaced["X-Request-ID"] != 'bad"id\n<script>'
    assert len(replaced["X-Request-ID"]) == 32
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_tokens_and_passwords_never_reach_a_json_line(json_lines):
    log = logging.getLogger("snapshots.test.json")
    log.warning("calling with %s", {"X-Auth-Token": FERNET, "name": "nightly"})
    log.warning('body {"password": "hunter2-secret"}')
    try:
        raise RuntimeError(f"token={FERNET} rejected")
    except RuntimeError:
        log.exception("the call failed")
    entries = [e for e in json_lines() if e["logger"] == "snapshots.test.json"]
    assert len(entries) == 3
    text = json.dumps(entries)
    assert FERNET not in text
    assert "hunter2-secret" not in text
    assert "nightly" in entries[0]["message"]
    assert "RuntimeError" in entries[2]["exception"]


@shared_task(name="tests.observability.logs_something")
def logs_something() -> None:
    logging.getLogger("snapshots.test.task").warning("inside the task")


def test_task_lines_carry_the_task_id(json_lines):
    result = logs_something.apply(task_id="task-1234-abcd")
    assert result.successful()
    entries = [e for e in json_lines() if e["logger"] == "snapshots.test.task"]
    assert [e["task_id"] for e in entries] == ["task-1234-abcd"]
    logging.getLogger("snapshots.test.task").warning("after the task")
    assert "task_id" not in json_lines()[-1]


def test_log_format_json_setting_configures_the_console(tmp_path):
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('snapshots.probe').warning('hello %s', "
        "{'password': 'hunter2-secret'})"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "LOG_FORMAT": "json",
        "DASHBOARD_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    probe = [e for e in lines if e["logger"] == "snapshots.probe"]
    assert len(probe) == 1
    assert probe[0]["message"].startswith("hello ")
    assert "hunter2-secret" not in result.stderr


def test_gunicorn_access_lines_are_json_with_the_request_id():
    from datetime import timedelta as td
    from types import SimpleNamespace

    from gunicorn.config import Config

    from deploy.gunicorn_json import JsonAccessLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonAccessLogger(cfg)
    lines = []
    logger.access_log.info = lines.append
    response = SimpleNamespace(
        status="404 Not Found", sent=12, headers=[("X-Request-ID", "abc123def456")]
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": '/snapshots/"quoted"?q=x',
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": '/snapshots/"quoted"',
        "REMOTE_ADDR": "10.0.0.9",
    }
    logger.access(response, SimpleNamespace(headers=[]), environ, td(microseconds=1500))
    (line,) = lines
    entry = json.loads(line)
    assert entry["request_id"] == "abc123def456"
    assert (entry["status"], entry["path"], entry["bytes"]) == (404, '/snapshots/"quoted"', 12)
    assert entry["seconds"] == 0.0015
    assert "q=x" not in line  # search text stays out of the access log
