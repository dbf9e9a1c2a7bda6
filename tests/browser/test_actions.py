"""Create, edit, delete and the admin repairs, clicked through like a person would.

The stack runs its real worker: the new snapshot turns available through the track task, and
snapshots made "outside the dashboard" in the simulator arrive through the sync task.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

LIVE = 30_000  # ms: the worker's track/sync plus the page's live poll, with room to spare


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _wait_for_sync(page, name: str, url: str = "/snapshots/stuck/") -> None:
    """Reload `url` until the sync worker has brought in the snapshot called `name`."""
    deadline = time.monotonic() + LIVE / 1000
    while True:
        page.goto(url)
        if page.locator("tr", has_text=name).count():
            return
        assert time.monotonic() < deadline, f"{name} never arrived on {url}"
        time.sleep(1)


def test_create_from_the_list_and_watch_it_turn_available(page, sign_in, axe_violations):
    name = _name("browser-create")
    sign_in(page, "demo")
    page.goto("/snapshots/")
    page.click("#create-snapshot")
    page.wait_for_url("**/snapshots/create/")
    assert axe_violations(page) == []
    expect(page.get_by_label("scratch-tmp")).to_be_disabled()
    page.get_by_label("db-replica").check()
    page.fill("#id_name", name)
    page.fill("#id_description", "made in a browser")
    page.fill("#id_meta-0-key", "owner")
    page.fill("#id_meta-0-value", "browser")
    page.click("#create-submit")
    page.wait_for_url("**/snapshots/?highlight=*")
    expect(page.locator("#messages")).to_contain_text("is being created")
    row = page.locator("#snapshot-table tr", has_text=name)
    expect(row).to_have_count(1)
    expect(row.locator(".status-badge")).to_have_text("Available", timeout=LIVE)


def test_in_use_volume_needs_force_before_anything_is_sent(page, sign_in):
    sign_in(page, "demo")
    page.goto("/snapshots/create/")
    page.get_by_label("db-primary").check()
    page.fill("#id_name", _name("no-force"))
    page.fill("#id_description", "line one")
    page.click("#create-submit")
    expect(page.locator("#id_force_error")).to_contain_text("tick Force")
    assert page.input_value("#id_description") == "line one"


def test_edit_metadata_then_delete_with_confirmation(page, sign_in, stack, axe_violations):
    name = _name("browser-meta")
    snap = stack.sim.create_snapshot("alpha", name=name, status="available", metadata={"a": "1"})
    sid = snap.get("id") or snap["snapshot"]["id"]
    sign_in(page, "demo")
    _wait_for_sync(page, name, url="/snapshots/?per_page=100&sort=-created")

    page.goto(f"/snapshots/{sid}/metadata/")
    assert axe_violations(page) == []
    page.click("[data-add-row]")
    page.locator("[data-rows] tr[data-row]").last.locator("input[name$='-key']").fill("team")
    page.locator("[data-rows] tr[data-row]").last.locator("input[name$='-value']").fill("blue")
    page.get_by_label("Remove key a").check()
    page.get_by_role("button", name="Save metadata").click()
    page.wait_for_url(f"**/snapshots/{sid}/")
    expect(page.locator("#messages")).to_contain_text("Metadata saved: set team; removed a.")
    table = page.locator("#metadata-table")
    expect(table).to_contain_text("team")
    expect(table).not_to_contain_text("1")

    page.locator("#snapshot-actions").get_by_role("link", name="Delete…").click()
    page.wait_for_url(f"**/snapshots/{sid}/delete/")
    expect(page.locator("#confirm-items")).to_contain_text(name)
    page.click("#confirm-delete")
    page.wait_for_url("**/snapshots/")
    expect(page.locator("#messages")).to_contain_text("has been scheduled")


def _hours_ago(hours: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")


def test_admin_force_deletes_an_error_deleting_snapshot(page, sign_in, stack, axe_violations):
    name = _name("browser-broken")
    stack.sim.create_snapshot("beta", name=name, status="error_deleting", created_at=_hours_ago(3))
    sign_in(page, "admin")
    _wait_for_sync(page, name)
    assert axe_violations(page) == []
    row = page.locator("#stuck-table tr", has_text=name)
    row.get_by_role("link", name=f"Force delete… {name}").click()
    expect(page.locator("#confirm-items")).to_contain_text(name)
    page.click("#confirm-force-delete")
    page.wait_for_url("**/snapshots/stuck/")
    expect(page.locator("#messages")).to_contain_text(f"Force deletion of “{name}”")
    deadline = time.monotonic() + LIVE / 1000
    while page.locator("#stuck-table tr", has_text=name).count():
        assert time.monotonic() < deadline, "the force-deleted snapshot stayed in the queue"
        time.sleep(1)
        page.reload()


def test_admin_resets_a_stuck_snapshot(page, sign_in, stack, axe_violations):
    name = _name("browser-stuck")
    stack.sim.create_snapshot("alpha", name=name, status="creating", created_at=_hours_ago(2))
    sign_in(page, "admin")
    _wait_for_sync(page, name)
    row = page.locator("#stuck-table tr", has_text=name)
    row.get_by_role("link", name=f"Reset… {name}").click()
    expect(page.locator("label", has_text="Creating (current)")).to_have_count(1)
    assert axe_violations(page) == []
    page.get_by_label("Error", exact=True).check()
    page.fill("#id_reason", "stuck for two hours, driver log shows failure")
    page.get_by_role("button", name="Reset status").click()
    page.wait_for_url("**/snapshots/stuck/")
    expect(page.locator("#messages")).to_contain_text("status reset to error")
    expect(page.locator("#stuck-table tr", has_text=name)).to_have_count(0)
