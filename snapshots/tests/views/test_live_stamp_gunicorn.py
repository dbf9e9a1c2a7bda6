"""What deploy/gunicorn.conf.py does for open tabs' live checks: they are not counted towards a
worker's recycling, and their "nothing changed" answers stay out of the access log (any other
answer, and every other request, is logged)."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from gunicorn.config import Config

from deploy.gunicorn_access import LIVE_STAMP_PATH, AccessLogger
from deploy.gunicorn_json import JsonAccessLogger

ROOT = Path(__file__).resolve().parents[3]


def test_the_servers_path_is_the_dashboards():
    assert LIVE_STAMP_PATH == settings.LIVE_STAMP_PATH


def test_live_checks_do_not_bring_a_workers_recycling_closer():
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert config["logger_class"] == "deploy.gunicorn_access.AccessLogger"
    worker = SimpleNamespace(nr=10)
    config["pre_request"](worker, SimpleNamespace(path=LIVE_STAMP_PATH))
    assert worker.nr == 9  # gunicorn adds the request right after the hook: 10 again
    config["pre_request"](worker, SimpleNamespace(path="/snapshots/live/"))
    assert worker.nr == 9


def access_lines(logger_class, status: str, path: str) -> list[str]:
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = logger_class(cfg)
    lines: list[str] = []
    logger.access_log.info = lambda message, *args, **kw: lines.append(str(message))
    response = SimpleNamespace(
        status=status, status_code=int(status.split()[0]), sent=0, headers=[]
    )
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path,
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.9"}  # fmt: skip
    request = SimpleNamespace(path=path, headers=[])
    logger.access(response, request, environ, timedelta(microseconds=300))
    return lines


def test_nothing_changed_answers_stay_out_of_the_access_log():
    for logger_class in (AccessLogger, JsonAccessLogger):
        assert access_lines(logger_class, "204 No Content", LIVE_STAMP_PATH) == []
        assert len(access_lines(logger_class, "200 OK", LIVE_STAMP_PATH)) == 1
        assert len(access_lines(logger_class, "403 Forbidden", LIVE_STAMP_PATH)) == 1
        assert len(access_lines(logger_class, "204 No Content", "/snapshots/live/")) == 1
