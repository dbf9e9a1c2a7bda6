"""The snapshot workflows clicked through like a person would, on the stack `make run` starts:
a volume from a snapshot, revert, the failure message of a snapshot the simulator failed on
purpose, the quota, and (as an admin) unmanage then manage back. axe is clean on each new page."""

from __future__ import annotations

import time
import uuid

import requests
from playwright.sync_api import expect

LIVE = 40_000  # ms: the worker's beat plus the page's live poll, with room to spare
HOST = "cloudsim@lvm"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _fresh(stack, size: int = 2) -> tuple[dict, str, str]:
    """A new volume of alpha and an available snapshot of it (its latest), made in the sim."""
    volume = stack.sim.create_volume("alpha", name=_name("wf-vol"), size=size)
    name = _name("wf-snap")
    snap = stack.sim.create_snapshot("alpha", volume_id=volume["id"], name=name, size=size)
    return volume, snap.get("id") or snap["snapshot"]["id"], name


def _wait_for_page(page, url: str, text: str) -> None:
    """Reload `url` until the workers have brought in what shows `text`."""
    deadline = time.monotonic() + LIVE / 1000
    while True:
        response = page.goto(url)
        if response and response.status == 200 and page.locator("body", has_text=text).count():
            return
        assert time.monotonic() < deadline, f"{text!r} never showed on {url}"
        time.sleep(1)


def test_create_a_volume_from_a_snapshot_and_see_it_available(page, sign_in, stack, axe_violations):
    _volume, sid, name = _fresh(stack)
    sign_in(page, "demo")
    _wait_for_page(page, f"/snapshots/{sid}/", name)
    assert axe_violations(page) == []
    page.click("text=Create volume…")
    page.wait_for_url(f"**/snapshots/{sid}/create-volume/")
    assert axe_violations(page) == []
    volume_name = _name("wf-copy")
    page.fill("#id_name", volume_name)
    page.fill("#id_size", "3")
    page.click("#volume-create-submit")
    page.wait_for_url(f"**/snapshots/{sid}/#made-volumes")
    expect(page.locator("#messages")).to_contain_text("is being created")
    made = page.locator("#made-volumes-list li", has_text=volume_name)
    expect(made).to_have_count(1)
    expect(made.locator(".volume-status")).to_have_text("available", timeout=LIVE)
    page.goto("/snapshots/volumes/")
    expect(page.locator("#volume-table")).to_contain_text(volume_name)


def _confirm_from_detail(page, axe_violations, sid, link, action, note) -> None:
    """From the snapshot's page, open `link`'s confirmation (/snapshots/<id>/<action>/), check
    it (accessible, `note` = (selector, text) shown) and confirm: back on the snapshot's page."""
    _wait_for_page(page, f"/snapshots/{sid}/", link)
    page.click(f"text={link}")
    page.wait_for_url(f"**/snapshots/{sid}/{action}/")
    assert axe_violations(page) == []
    expect(page.locator(note[0])).to_contain_text(note[1])
    page.click(f"#confirm-{action}")
    page.wait_for_url(f"**/snapshots/{sid}/")


def test_revert_a_volume_to_its_latest_snapshot(page, sign_in, stack, axe_violations):
    _volume, sid, name = _fresh(stack)
    sign_in(page, "demo")
    _confirm_from_detail(
        page, axe_violations, sid, "Revert volume…", "revert", ("#revert-warning", "is lost")
    )
    expect(page.locator("#messages")).to_contain_text("being reverted")
    expect(page.locator("#snapshot-status .status-badge")).to_have_text("Available", timeout=LIVE)
    assert name in page.content()


def test_read_why_a_snapshot_failed(page, sign_in, stack, axe_violations):
    volume = stack.sim.create_volume("alpha", name=_name("wf-fail"), size=1)
    name = _name("wf-doomed")
    token = stack.sim.token("demo", "alpha")
    stack.sim.faults(create_error_rate=1.0)
    try:
        answer = requests.post(
            f"{stack.sim.volume_endpoint('alpha')}/snapshots",
            json={"snapshot": {"volume_id": volume["id"], "name": name}},
            headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.65"},
            timeout=30,
        )
    finally:
        stack.sim.clear_faults()
    assert answer.status_code == 202
    sid = answer.json()["snapshot"]["id"]
    sign_in(page, "demo")
    _wait_for_page(page, f"/snapshots/{sid}/", "Why did it fail?")
    expect(page.locator("#failure-messages")).to_contain_text("Snapshot failed to create.")
    assert axe_violations(page) == []
    page.goto("/snapshots/?status=error&per_page=100")
    row = page.locator("#snapshot-table tr", has_text=name)
    expect(row.locator(".failure-hint")).to_contain_text("Snapshot failed to create.")


def _wait_for_gigabytes_limit(page, url: str, shown: str) -> None:
    """Reload `url` until its quota panel shows the gigabytes limit `shown` (the workers read
    the quota every QUOTA_INTERVAL)."""
    deadline = time.monotonic() + LIVE / 1000
    while True:
        page.goto(url)
        limit = page.locator("#quota-table tr", has_text="Gigabytes").locator("td").nth(1)
        if limit.count() and limit.inner_text() == shown:
            return
        assert time.monotonic() < deadline, f"the quota limit {shown!r} never reached the form"
        time.sleep(1)


def test_hit_the_quota_before_cinder_does(page, sign_in, stack):
    _volume, sid, _snap_name = _fresh(stack, size=2)
    stack.sim.set_quota("alpha", gigabytes=1)
    url = f"/snapshots/{sid}/create-volume/"
    try:
        sign_in(page, "demo")
        _wait_for_gigabytes_limit(page, url, "1")
        expect(page.locator("#create-refusal")).to_contain_text("quota would be exceeded")
        page.fill("#id_name", _name("too-big"))
        page.click("#volume-create-submit")
        expect(page.locator("#messages")).to_contain_text("gigabytes quota would be exceeded")
    finally:
        stack.sim.set_quota("alpha", gigabytes=-1)
    # the tests after this one must not meet the lowered quota still in the mirror
    _wait_for_gigabytes_limit(page, url, "unlimited")


def test_admin_unmanages_then_manages_back(page, sign_in, stack, axe_violations):
    _volume, sid, _snapshot_name = _fresh(stack)
    sign_in(page, "admin", project="alpha")
    _confirm_from_detail(
        page,
        axe_violations,
        sid,
        "Unmanage…",
        "unmanage",
        ("#unmanage-note", "leaves Cinder, not the backend"),
    )
    expect(page.locator("#messages")).to_contain_text("is leaving Cinder")

    page.goto("/snapshots/manageable/")
    assert axe_violations(page) == []
    page.fill("#id_host", HOST)
    page.click("#host-form button[type=submit]")
    reference = f"_snapshot-{sid}"
    deadline = time.monotonic() + LIVE / 1000
    # listed as managed while it is `unmanaging`, then as safe to manage once it left Cinder
    while (
        not page.locator("#manageable-table tr", has_text=reference)
        .locator("a[href*='/manage/?entry=']")
        .count()
    ):
        assert time.monotonic() < deadline, "the unmanaged snapshot never became manageable"
        time.sleep(1)
        page.click("#refresh-form button[type=submit]")
        page.wait_for_load_state()
    assert axe_violations(page) == []
    page.locator("#manageable-table tr", has_text=reference).locator(
        "a[href*='/manage/?entry=']"
    ).click()
    page.wait_for_url("**/snapshots/manageable/manage/?entry=*")
    assert axe_violations(page) == []
    back = _name("wf-back")
    page.fill("#id_name", back)
    page.click("#manage-submit")
    try:
        page.wait_for_url(lambda url: "/manageable/" not in url, timeout=30_000)
    except Exception as exc:  # say what the page said instead of only "timeout"
        said = page.locator("#messages, .alert, .invalid-feedback").all_inner_texts()
        raise AssertionError(f"the manage form stayed: {said}") from exc
    expect(page.locator("h1")).to_contain_text(back)
    expect(page.locator("#snapshot-status .status-badge")).to_have_text("Available", timeout=LIVE)
