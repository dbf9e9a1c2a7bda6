"""The pages work under their Content-Security-Policy: no violation reported by Chromium while a
person signs in, switches project, lists (with a live row), opens a snapshot, creates one and
looks at the audit pages and the charts.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

PAGES = [
    "/snapshots/",
    "/snapshots/create/",
    "/snapshots/volumes/",
    "/snapshots/audit/",
    "/snapshots/history/",
    "/snapshots/overview/",
]


@pytest.fixture
def strict_page(browser, stack):
    """A tab that honours the CSP (the shared `page` fixture bypasses it for axe-core)."""
    context = browser.new_context(base_url=stack.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.violations = []
    tab.on(
        "console",
        lambda msg: (
            tab.violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text
            else None
        ),
    )
    tab.on("pageerror", lambda exc: tab.violations.append(f"page error: {exc}"))
    yield tab
    context.close()


def test_pages_raise_no_csp_violation(strict_page, sign_in, stack):
    page = sign_in(strict_page, "admin")
    for url in PAGES:
        response = page.goto(url)
        assert response is not None and response.ok, url
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto("/snapshots/overview/")
    expect(page.locator("canvas").first).to_be_visible()
    # A chart was drawn by Chart.js: the canvas has a size set from script, not from markup.
    assert page.evaluate("() => document.querySelector('canvas').width") > 0
    assert page.violations == []


def test_project_switcher_and_live_rows_work_without_inline_script(strict_page, sign_in, stack):
    page = sign_in(strict_page, "demo")
    volume = stack.sim.create_volume("alpha", name="csp-volume", size=1)
    stack.sim.create_snapshot("alpha", volume_id=volume["id"], name="csp-live", status="creating")
    deadline = time.monotonic() + 30
    while page.locator("#snapshot-table tbody tr", has_text="csp-live").count() == 0:
        assert time.monotonic() < deadline, "the snapshot never reached the list"
        time.sleep(1)
        page.goto("/snapshots/")
    row = page.locator("#snapshot-table tbody tr", has_text="csp-live")
    expect(row).to_contain_text("available", timeout=30_000)  # swapped in by the live poll
    expect(page.locator("#project-select")).to_be_visible()
    with page.expect_navigation():
        page.select_option("#project-select", label="beta")
    expect(page.locator("#project-select")).to_have_value(
        page.locator("#project-select option", has_text="beta").get_attribute("value")
    )
    page.goto("/snapshots/create/")
    page.wait_for_load_state("networkidle")
    assert page.violations == []
