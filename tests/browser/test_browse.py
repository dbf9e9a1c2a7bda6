"""The snapshot list and detail pages in a real browser, against the whole stack.

Sign in, filter, sort, page, export; watch a snapshot made outside the dashboard turn
`available` without a reload; keyboard only; a phone-sized screen; axe-core on both pages.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

LIVE = 30_000  # ms: sync/track in the worker plus the page's live poll, with room to spare


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _creating_elsewhere(stack, prefix: str, **fields) -> tuple[str, str]:
    """A snapshot made in alpha outside the dashboard, still creating: its name and id."""
    name = _name(prefix)
    created = stack.sim.create_snapshot("alpha", name=name, status="creating", **fields)
    return name, created.get("id") or created["snapshot"]["id"]


def _wait_for_rows(page, url: str, text: str, count: int = 1) -> None:
    """Reload `url` until the sync worker has brought in `count` rows containing `text`."""
    deadline = time.monotonic() + LIVE / 1000
    while True:
        page.goto(url)
        if page.locator("#snapshot-table tbody tr", has_text=text).count() >= count:
            return
        assert time.monotonic() < deadline, f"{text} never arrived on {url}"
        time.sleep(1)


def _cinder(stack, method: str, path: str, json_body=None, project: str = "alpha"):
    """A call to Cinder as the admin, "outside the dashboard"."""
    token = stack.sim.token("admin", project)
    url = f"{stack.sim.volume_endpoint(project)}{path}"
    response = requests.request(
        method,
        url,
        json=json_body,
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.66"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    return response


def _row_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        "#snapshot-table tbody tr[id^=row-]", "rows => rows.map(r => r.id.slice(4))"
    )


def test_filter_sort_page_and_export(page, sign_in, stack):
    sign_in(page, "admin")
    _wait_for_rows(page, "/snapshots/", "", count=25)
    total = int(page.locator("#result-count strong").inner_text())
    assert total > 25, "the demo cloud has more than a page of snapshots"

    # page 2 over htmx: the URL follows, the count stays
    page.click("#page-2")
    page.wait_for_url("**page=2*")
    expect(page.locator("#page-summary")).to_contain_text("Rows 26")
    expect(page.locator("#page-summary")).to_contain_text(f"of {total}")

    # filter: failed only (error + error_deleting), then sort by size, descending
    page.goto("/snapshots/")
    page.locator("#more-filters summary").click()
    page.get_by_label("Failed only").check()
    page.click("#apply-filters")
    page.wait_for_url("**failed=on*")
    badges = page.locator("#snapshot-table .status-badge").all_inner_texts()
    assert badges and set(badges) <= {"Error", "Error deleting"}
    failed = int(page.locator("#result-count strong").inner_text())
    page.click("#sort-size")
    page.wait_for_url("**sort=size*")
    expect(page.locator("#sort-size")).to_contain_text("sort descending")
    page.click("#sort-size")
    page.wait_for_url("**sort=-size*")
    sizes = [
        int(s.split()[0])
        for s in page.locator("#snapshot-table td[data-label=Size]").all_inner_texts()
    ]
    assert sizes == sorted(sizes, reverse=True)
    assert "failed=on" in page.url  # the filter survived the sort

    # export exactly these rows, in this order
    shown = _row_ids(page)
    with page.expect_download() as info:
        page.click("#export-csv")
    with open(info.value.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert len(rows) == failed
    assert [r["ID"] for r in rows][: len(shown)] == shown
    assert {r["Status"] for r in rows} <= {"error", "error_deleting"}
    with page.expect_download() as info:
        page.click("#export-json")
    with open(info.value.path(), encoding="utf-8") as exported:
        assert [r["id"] for r in json.load(exported)] == [r["ID"] for r in rows]  # JSON: fields


def test_a_snapshot_made_elsewhere_turns_available_without_reload(page, sign_in, stack):
    name, sid = _creating_elsewhere(stack, "live")
    sign_in(page, "demo")
    _wait_for_rows(page, f"/snapshots/?q={name}", name)
    row = page.locator(f"#row-{sid}")
    expect(row.locator(".status-badge")).to_have_text("Creating")
    expect(row.locator(".progress")).to_have_count(1)
    page.evaluate("window.__sameDocument = true")
    polls: list[str] = []
    checks: list[str] = []

    def seen(request) -> None:
        if "/snapshots/live/stamp" in request.url:
            checks.append(request.url)
        elif "/snapshots/live/" in request.url:
            polls.append(request.url)

    page.on("request", seen)

    _cinder(stack, "POST", f"/snapshots/{sid}/action", {"os-reset_status": {"status": "available"}})
    expect(row.locator(".status-badge")).to_have_text("Available", timeout=LIVE)
    expect(row.locator(".progress")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert polls and all(f"row={sid}" in url for url in polls)
    assert checks  # the cheap change check asked first; the rows came only once it said so
    # nothing transitional is left: the poll and the checks have stopped (286)
    settled = (len(polls), len(checks))
    page.wait_for_timeout(3000)
    assert (len(polls), len(checks)) == settled


def _visibility(page, state: str) -> None:
    """The tab is hidden or shown (as switching tabs does), as far as the page can tell."""
    page.evaluate(
        """state => {
            const get = () => state;
            Object.defineProperty(document, "visibilityState", {configurable: true, get});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_a_hidden_tab_asks_nothing_and_catches_up_when_shown(page, sign_in, stack):
    name = _name("hidden")
    created = stack.sim.create_snapshot("alpha", name=name, status="creating")
    sid = created.get("id") or created["snapshot"]["id"]
    sign_in(page, "demo")
    _wait_for_rows(page, f"/snapshots/?q={name}", name)
    row = page.locator(f"#row-{sid}")
    checks: list[str] = []
    page.on("request", lambda r: checks.append(r.url) if "/live/stamp" in r.url else None)
    page.wait_for_timeout(1500)
    assert checks  # a visible tab checks

    _visibility(page, "hidden")
    page.wait_for_timeout(600)  # a check already on its way may still arrive
    asked = len(checks)
    _cinder(stack, "POST", f"/snapshots/{sid}/action", {"os-reset_status": {"status": "available"}})
    page.wait_for_timeout(4000)
    assert len(checks) == asked  # hidden: not one check
    expect(row.locator(".status-badge")).to_have_text("Creating")

    _visibility(page, "visible")
    expect(row.locator(".status-badge")).to_have_text("Available", timeout=LIVE)
    assert len(checks) > asked


def test_a_snapshot_deleted_elsewhere_leaves_the_table(page, sign_in, stack):
    name, sid = _creating_elsewhere(stack, "gone")
    sign_in(page, "demo")
    _wait_for_rows(page, f"/snapshots/?q={name[:5]}&sort=-created", name)
    expect(page.locator(f"#row-{sid}")).to_have_count(1)
    _cinder(stack, "POST", f"/snapshots/{sid}/action", {"os-force_delete": {}})
    expect(page.locator(f"#row-{sid}")).to_have_count(0, timeout=LIVE)


def test_detail_page_follows_the_status(page, sign_in, stack, axe_violations):
    name, sid = _creating_elsewhere(stack, "detail", metadata={"owner": "browser"})
    sign_in(page, "demo")
    _wait_for_rows(page, f"/snapshots/?q={name}", name)
    page.click(f"#row-{sid} td[data-label=Name] a")
    page.wait_for_url(f"**/snapshots/{sid}/")
    expect(page.locator("#snapshot-status")).to_contain_text("Creating")
    assert axe_violations(page) == []
    _cinder(stack, "POST", f"/snapshots/{sid}/action", {"os-reset_status": {"status": "available"}})
    expect(page.locator("#snapshot-status")).to_contain_text("Available", timeout=LIVE)
    expect(page.locator("#status-timeline li")).to_have_count(2)
    expect(page.locator("#metadata-table")).to_contain_text("owner")


def test_list_is_accessible(page, sign_in, stack, axe_violations):
    stack.sim.create_snapshot("alpha", name='<img src=x onerror="window.__xss=1">' + "w" * 200)
    sign_in(page, "admin")
    _wait_for_rows(page, "/snapshots/?q=onerror", "onerror")
    assert page.evaluate("window.__xss") is None  # the name is text, never HTML
    page.goto("/snapshots/")
    assert axe_violations(page) == []
    page.emulate_media(reduced_motion="reduce")  # no colour caught mid-transition
    page.locator("#more-filters summary").click()
    page.locator("#table-settings summary").click()
    page.mouse.move(0, 0)
    assert axe_violations(page) == []


def test_the_list_works_with_the_keyboard_alone(page, sign_in, stack):
    sign_in(page, "admin")
    _wait_for_rows(page, "/snapshots/", "", count=25)

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        pytest.fail(f"Tab never reached {selector}")

    page.locator("body").focus()
    tab_to("#id_q")
    page.keyboard.type("a")
    tab_to("#id_status_1")  # Available
    page.keyboard.press("Space")
    tab_to("#apply-filters")
    page.keyboard.press("Enter")
    page.wait_for_url("**status=available*")
    assert set(page.locator("#snapshot-table .status-badge").all_inner_texts()) == {"Available"}

    tab_to("#sort-name")
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=name*")
    names = page.locator("#snapshot-table td[data-label=Name]").all_inner_texts()
    assert names == sorted(names, key=str)
    # focus stays on the sort link after the htmx swap, so the next Tab goes on from there
    assert page.evaluate("document.activeElement.id") == "sort-name"

    # past 25 rows of links in a few keys: the skip link jumps to the page links
    page.goto("/snapshots/")
    page.locator("body").focus()
    tab_to("#skip-to-pager", limit=60)
    page.keyboard.press("Enter")
    tab_to("#page-2", limit=5)
    page.keyboard.press("Enter")
    page.wait_for_url("**page=2*")
    expect(page.locator("#page-summary")).to_contain_text("Rows 26")

    # the column chooser opens, and Escape closes it, from the keyboard
    page.locator("body").focus()
    tab_to("#table-settings summary")
    page.keyboard.press("Enter")
    expect(page.locator("#col-metadata")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(page.locator("#col-metadata")).to_be_hidden()


def test_readable_on_a_phone_with_long_names(page, sign_in, stack):
    long_name = "L" * 255
    stack.sim.create_snapshot("alpha", name=long_name, status="available")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "demo")
    _wait_for_rows(page, f"/snapshots/?q={long_name[:40]}", long_name[:40])
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"
    cell = page.locator("#snapshot-table td[data-label=Name]").first
    assert cell.bounding_box()["width"] <= 375
    # each cell names its column on a phone
    label = page.evaluate(
        "getComputedStyle(document.querySelector('#snapshot-table td[data-label=Size]'),"
        " '::before').content"
    )
    assert "Size" in label
    # the headers are hidden on a phone: the sort menu stands in for them
    page.select_option("#phone-sort-select", "-size")
    page.locator("#phone-sort button").click()
    page.wait_for_url("**sort=-size*")
    assert "q=" in page.url  # the search stayed


def test_column_choice_sticks(page, sign_in, stack):
    sign_in(page, "auditor")
    page.goto("/snapshots/")
    page.locator("#table-settings summary").click()
    page.check("#col-metadata")
    page.uncheck("#col-size")
    page.click("#save-columns")
    page.wait_for_url("**/snapshots/*")
    expect(page.locator("#snapshot-table th", has_text="Metadata")).to_have_count(1)
    expect(page.locator("#snapshot-table th", has_text="Size")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "auditor")
    page.goto("/snapshots/")
    expect(page.locator("#snapshot-table th", has_text="Metadata")).to_have_count(1)
