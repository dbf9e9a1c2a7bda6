"""The deployment files: docker-compose.yml, the Dockerfile, .env.example and production settings.

There is no Docker engine on the machines that run these tests, so the compose file is checked by
reading it: the services exist, have health checks and start in order, and every command they run
exists in this project.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_services_with_health_checks(compose):
    services = compose["services"]
    assert set(services) >= {
        "web",
        "worker",
        "beat",
        "redis",
        "postgres",
        "cloudsim",
        "migrate",
        "proxy",
        "live",
    }
    for name in ("web", "live", "worker", "beat", "redis", "postgres", "cloudsim", "proxy"):
        assert "healthcheck" in services[name], name
    assert "version" not in compose  # obsolete key
    assert services["cloudsim"]["profiles"] == ["demo"]
    for name in ("web", "live", "worker", "beat"):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["ports"][0].endswith(":8080")


def test_compose_points_the_app_at_redis_and_postgres(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
    assert env["DEBUG"] == "0"
    assert "SECRET_KEY:?" in env["SECRET_KEY"]  # compose refuses to start without one


def test_there_is_exactly_one_beat(compose):
    beats = [
        name
        for name, svc in compose["services"].items()
        if "beat" in svc.get("command", []) or "-B" in svc.get("command", [])
    ]
    assert beats == ["beat"]


def test_web_and_worker_scale_behind_the_proxy(compose):
    services = compose["services"]
    for name in ("web", "worker"):
        # a published port or a fixed container name would stop `--scale name=3`
        assert "ports" not in services[name], name
        assert "container_name" not in services[name], name
    assert services["web"]["expose"] == ["8000"]
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    assert services["worker"]["environment"]["METRICS_WORKER_PORT"] == "9808"
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    mount = services["proxy"]["volumes"][0].split(":")
    conf = (ROOT / mount[0]).read_text()
    assert "http://web:8000" in conf
    assert "resolver 127.0.0.11" in conf  # re-resolves the replicas
    metrics = conf[conf.index("location = /metrics") :]
    assert metrics.split("}")[0].strip().endswith("return 404;")
    assert "-c" in services["web"]["command"] or "--config" in services["web"]["command"]


def _module_of(command: list[str]) -> str:
    if command[0] == "uvicorn":
        return command[1].split(":")[0]  # the ASGI module:attribute first
    if command[0] == "gunicorn":
        return command[-1].split(":")[0]  # options first, the WSGI module last
    if command[:2] == ["python", "-m"]:
        return command[2]
    if command[0] == "celery":
        return command[command.index("-A") + 1]
    return ""


def test_every_command_the_services_run_exists(compose):
    from django.core.management import get_commands

    for name, svc in compose["services"].items():
        command = svc.get("command")
        if not command:
            continue
        if command[:2] == ["python", "manage.py"]:
            assert command[2] in get_commands(), name
            continue
        module = _module_of(command)
        assert module, f"{name}: unknown command {command}"
        imported = importlib.import_module(module)
        if command[0] == "celery":
            assert hasattr(imported, "celery_app"), name
            assert command[command.index("-A") + 2] in {"worker", "beat"}
        if command[0] == "gunicorn":
            assert hasattr(imported, "application"), name
        if command[0] == "uvicorn":
            assert callable(getattr(imported, command[1].split(":")[1])), name
    for name in ("redis", "postgres", "proxy"):
        assert compose["services"][name]["image"]


def test_the_proxy_sends_open_tabs_streams_to_the_live_service_unbuffered(compose):
    from django.conf import settings

    live = compose["services"]["live"]
    assert live["command"][:2] == ["uvicorn", "dashboard.asgi:application"]
    assert "--timeout-graceful-shutdown" in live["command"]  # held streams must not stop a stop
    port = live["command"][live["command"].index("--port") + 1]
    assert live["expose"] == [port]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    block = conf[conf.index(f"location = {settings.LIVE_STREAM_PATH} ") :].split("}")[0]
    assert f"http://live:{port}" in block
    assert "proxy_buffering off;" in block
    assert "proxy_http_version 1.1;" in block
    assert "proxy_read_timeout 1h;" in block  # longer than a stream lives (LIVE_STREAM_SECONDS)
    assert settings.LIVE_STREAM_SECONDS < 3600


def test_health_checks_target_real_endpoints(compose):
    web = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "/readyz" in web  # database and broker, not just a live process
    sim = " ".join(compose["services"]["cloudsim"]["healthcheck"]["test"])
    assert "/_sim/info" in sim


def test_dockerfile_installs_the_pinned_requirements_and_runs_unprivileged():
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert "collectstatic" in text
    assert re.search(r"^USER app$", text, re.M)
    assert "FROM python:3.11" in text


def test_env_example_documents_every_setting_read_from_the_environment():
    tree = ast.parse((ROOT / "dashboard" / "settings.py").read_text())
    read = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and (
                (isinstance(node.func.value, ast.Name) and node.func.value.id == "env")
                or isinstance(node.func.value, ast.Call)  # environ.Env().str(...)
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and node.args[0].value.isupper()
        ):
            read.add(node.args[0].value)
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "settings.py reads the environment"
    assert read - documented == set()


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60 + "production-like-secret-key-for-the-check",
        "DASHBOARD_REQUIRE_SECRET_KEY": "1",
        "ALLOWED_HOSTS": "dashboard.example.org",
        "SECURE_SSL_REDIRECT": "1",
        "DASHBOARD_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "DASHBOARD_REQUIRE_SECRET_KEY": "1",
        "DASHBOARD_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_openstacksdk_is_imported_in_one_module_only():
    importers = []
    for path in ROOT.glob("**/*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "node_modules", "tests"} or "tests" in parts:
            continue
        text = path.read_text()
        if re.search(r"^\s*(import openstack|from openstack)\b", text, re.M):
            importers.append(str(path.relative_to(ROOT)))
    assert importers == ["snapshots/cloud/gateway.py"]


def test_views_import_nothing_from_the_cloud_package():
    """Views call services and selectors; only services reach the gateway (snapshots.cloud)."""
    importers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "snapshots" / "views").glob("*.py")
        if re.search(r"^\s*(from|import) snapshots\.cloud\b", path.read_text(), re.M)
    ]
    assert importers == []


def test_prometheus_rules_name_metrics_the_dashboard_exports():
    from snapshots.observability import collector, metrics

    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    exported = {
        m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")
    } | {
        value[0]
        for value in vars(collector).values()
        if isinstance(value, tuple) and len(value) == 2 and str(value[0]).startswith("snapshot_")
    }
    used = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["alert"] and rule["expr"] and rule["annotations"]["summary"]
            used |= set(re.findall(r"snapshot_dashboard_[a-z_]+", rule["expr"]))
    suffixes = ("_total", "_bucket", "_count", "_sum")
    for name in used:
        base = next((name.removesuffix(s) for s in suffixes if name.endswith(s)), name)
        assert base in exported, name
