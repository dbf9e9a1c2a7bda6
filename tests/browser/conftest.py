"""Browser tests: the whole dashboard as `make run` starts it, driven by Playwright in Debian's
Chromium (headless; never a downloaded browser), with axe-core for accessibility checks.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts import procs

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's sync API runs an event loop in the test thread; these tests never touch the
# test database themselves (the stack has its own), so Django's async guard can stand aside.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@dataclass
class Stack:
    url: str  # make run's threaded server: tabs check for changes
    live_url: str  # the same dashboard on uvicorn (dashboard.asgi): tabs are told of changes
    sim: object
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """scripts/stack.py (what `make run` starts) on free ports, with its own demo simulator."""
    from cloudsim.testing import start_simulator

    simulator = start_simulator("--create-delay", "4", "--delete-delay", "3")
    var = tmp_path_factory.mktemp("stack-var")
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "KEYSTONE_URL",
            "OS_CLOUD",
            "OS_CLIENT_CONFIG_FILE",
            "CINDER_NOAUTH_ENDPOINT",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env.update(
        {
            "DASHBOARD_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var}/dashboard.sqlite3",
            "DEBUG": "1",
            "DETECT_INTERVAL": "1",
            "SWEEP_INTERVAL": "5",
            "LIVE_POLL_SECONDS": "1",
            "QUOTA_INTERVAL": "2",
            "QUOTA_MAX_AGE": "2",
            "MESSAGES_INTERVAL": "2",
        }
    )
    port, live_port = procs.free_port(), procs.free_port()
    log = var / "stack.log"
    cmd = [sys.executable, "scripts/stack.py", "--port", str(port), "--sim-url", simulator.url]
    proc = procs.start("stack", [*cmd, "--live-port", str(live_port)], env=env, cwd=ROOT, log=log)
    running = Stack(
        url=f"http://127.0.0.1:{port}",
        live_url=f"http://127.0.0.1:{live_port}",
        sim=simulator,
        log=log,
    )
    try:
        for url in (running.url, running.live_url):
            procs.wait_until(
                f"{url}/healthz",
                lambda url=url: 200 <= (procs.answers(f"{url}/healthz") or 0) < 400,
                120,
                proc,
            )
    except procs.ProcessFailed as exc:
        proc.stop(grace=20)
        simulator.stop()
        pytest.fail(f"the stack did not start: {exc}")
    yield running
    proc.stop(grace=20)
    simulator.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, stack):
    # bypass_csp: axe_violations injects axe-core and a style tag inline, which the dashboard's
    # Content-Security-Policy refuses (tests/browser/test_csp.py checks the pages without it).
    context = browser.new_context(base_url=stack.url, accept_downloads=True, bypass_csp=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def sign_in(stack):
    """sign_in(page, "admin", project="beta") through the login form, like a person."""

    def do(page, user: str = "demo", project: str | None = None, password: str = "secret"):
        page.goto("/auth/login/")
        page.fill("#id_username", user)
        page.fill("#id_password", password)
        page.fill("#id_domain", "Default")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/login/" not in url)
        if project:
            with page.expect_navigation():
                page.select_option("#project-select", label=project)
        return page

    return do


@pytest.fixture
def axe_violations():
    """axe_violations(page) -> the serious and critical axe-core violations on the page."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install` (make test does)")
    source = AXE.read_text()

    def run(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
        # Colour checks must see settled colours, not a hover or fade caught half way.
        page.mouse.move(0, 0)
        page.add_style_tag(
            content="*, *::before, *::after { transition: none !important; "
            "animation: none !important; }"
        )
        page.add_script_tag(content=source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
            if v["impact"] in impacts
        ]

    return run
