"""The overview draws its charts from real data; the audit log filters, sorts and exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

# Charts the demo cloud has data for: by status, by project, size by project, created and failed
# per day, creating-to-available times.
DRAWN_CHARTS = 6


def test_overview_draws_every_chart_with_data(page, sign_in, axe_violations):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    sign_in(page, "admin")
    page.goto("/snapshots/overview/")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() >= DRAWN_CHARTS - 1  # a chart with no data shows a sentence
    page.wait_for_function(
        "n => window.Chart && Object.keys(Chart.instances).length === n", arg=canvases.count()
    )
    # The demo cloud's snapshots, synced into the mirror when the stack started.
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('canvas[data-chart]')].map(c => {
            const chart = Chart.getChart(c);
            return {id: c.id, type: chart.config.type, labels: chart.data.labels.length,
                    total: chart.data.datasets.reduce(
                        (sum, d) => sum + d.data.reduce((a, b) => a + b, 0), 0),
                    width: c.width, height: c.height};
        })"""
    )
    by_id = {d["id"]: d for d in drawn}
    embedded = json.loads(page.locator("#chart-data-by_status").text_content())
    assert by_id["chart-by_status"]["type"] == "doughnut"
    assert by_id["chart-by_status"]["total"] == sum(embedded["datasets"][0]["data"]) > 0
    assert by_id["chart-by_project"]["labels"] >= 2
    assert by_id["chart-created_per_day"]["labels"] == 30
    assert all(d["width"] > 0 and d["height"] > 0 for d in drawn)
    total = int(page.locator("#figure-total").inner_text())
    assert total == by_id["chart-by_status"]["total"]
    assert errors == []
    assert axe_violations(page) == []


def test_overview_older_than_parameter(page, sign_in):
    sign_in(page, "auditor")
    page.goto("/snapshots/overview/")
    page.fill("#id_older_than", "1")
    with page.expect_navigation():
        page.click("#overview-form button[type=submit]")
    assert "older_than=1" in page.url
    assert page.locator("#old-list-title").inner_text() == "Older than 1 days"
    assert int(page.locator("#old-list-count").inner_text()) > 0


def test_audit_log_filters_sorts_and_exports(page, sign_in, axe_violations):
    sign_in(page, "demo")  # leaves a sign_in event for demo in alpha
    page.context.clear_cookies()
    sign_in(page, "admin")
    page.goto("/snapshots/audit/")
    assert page.locator("#audit-table tbody tr").count() >= 2
    page.fill("#id_user", "demo")
    page.select_option("#id_action", "sign_in")
    with page.expect_navigation():
        page.click("#filter-apply")
    users = page.locator("#audit-table tbody tr td:nth-child(2)").all_inner_texts()
    actions = page.locator("#audit-table tbody tr td:nth-child(4)").all_inner_texts()
    assert users and all("demo" in u for u in users)
    assert set(actions) == {"sign_in"}

    # Sorting goes over htmx, keeps the filter and pushes the URL.
    page.click("#sort-outcome")
    page.wait_for_url("**sort=outcome**")
    assert "user=demo" in page.url
    assert page.locator("#audit-table tbody tr").count() == len(users)

    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.startswith("audit-events-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert len(rows) == len(users)
    assert {r["Action"] for r in rows} == {"sign_in"}
    assert all("demo" in r["User"] for r in rows)
    assert axe_violations(page) == []


@pytest.mark.parametrize("export_format", ["json", "xlsx"])
def test_audit_log_other_exports(page, sign_in, export_format):
    sign_in(page, "auditor")
    page.goto("/snapshots/audit/")
    with page.expect_download() as download_info:
        page.click(f"#export-{export_format}")
    download = download_info.value
    assert download.suggested_filename.endswith(f".{export_format}")
    with open(download.path(), "rb") as exported:
        content = exported.read()
    if export_format == "json":
        assert any(row["action"] == "sign_in" for row in json.loads(content))  # keyed by field
    else:
        assert content[:2] == b"PK"  # a zip: the xlsx container


def test_member_sees_only_their_projects_events_and_the_history(page, sign_in):
    sign_in(page, "demo", project="beta")
    page.goto("/snapshots/audit/")
    projects = set(page.locator("#audit-table tbody tr td:nth-child(3)").all_inner_texts())
    assert projects <= {"beta"}
    page.goto("/snapshots/history/")
    history_projects = set(
        page.locator("#history-table tbody tr td:nth-child(3)").all_inner_texts()
    )
    assert history_projects == {"beta"}
    page.get_by_role("link", name="Overview").click()
    page.wait_for_url("**/snapshots/overview/")
    labels = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-by_project')).data.labels"
    )
    assert labels == ["beta"]
