"""The overview page: chart data embedded with json_script, per role, the N-days parameter,
escaping, and a fixed number of queries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from snapshots.tests.factories_audit import make_snapshot, make_volume, mark_stuck, move

pytestmark = pytest.mark.django_db

URL = reverse("snapshots:overview")
CHARTS = (
    "by_status",
    "by_project",
    "size_by_project",
    "created_per_day",
    "failures_per_day",
    "creating_to_available",
    "stuck_by_status",
)


@pytest.fixture
def mirror(cloud):
    alpha, beta, gamma = (cloud.project_id(p) for p in ("alpha", "beta", "gamma"))
    now = timezone.now()
    volume = make_volume(alpha)
    a = make_snapshot(alpha, status="creating", at=now - timedelta(minutes=5), size=2)
    move(a, "available", now - timedelta(minutes=4, seconds=40))
    make_snapshot(alpha, volume_id=volume.id, created_at=now - timedelta(days=120), size=3)
    stuck = make_snapshot(beta, status="deleting", size=5, name="<svg onload=alert(1)>")
    mark_stuck(stuck, now - timedelta(hours=2))
    make_snapshot(gamma, status="error", created_at=now - timedelta(days=40), size=7)
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "stuck": stuck}


def chart_data(response) -> dict[str, dict]:
    content = response.content.decode()
    found = {}
    for key in CHARTS:
        match = re.search(
            rf'<script id="chart-data-{key}" type="application/json">(.*?)</script>', content
        )
        if match:
            found[key] = json.loads(match.group(1))
    return found


def test_admin_sees_every_chart_with_the_whole_clouds_numbers(login, mirror):
    client = login("admin")
    response = client.get(URL)
    assert response.status_code == 200
    data = chart_data(response)
    assert set(data) == set(CHARTS)
    by_status = dict(
        zip(data["by_status"]["labels"], data["by_status"]["datasets"][0]["data"], strict=True)
    )
    assert by_status == {"available": 2, "deleting": 1, "error": 1}
    sizes = dict(
        zip(
            data["size_by_project"]["labels"],
            data["size_by_project"]["datasets"][0]["data"],
            strict=True,
        )
    )
    assert sizes == {"alpha": 5, "beta": 5, "gamma": 7}
    durations = data["creating_to_available"]["datasets"][0]["data"]
    assert sum(durations) == 1
    assert b'<canvas id="chart-by_status" data-chart="doughnut"' in response.content
    assert b"vendor/chartjs/chart.umd.min.js" in response.content
    assert b"js/charts.js" in response.content


def test_member_sees_only_their_project(login, mirror):
    client = login("demo", project="alpha")
    data = chart_data(client.get(URL))
    assert data["by_project"]["labels"] == ["alpha"]
    assert sum(data["by_status"]["datasets"][0]["data"]) == 2
    assert "stuck_by_status" not in data  # nothing stuck in alpha: no chart, a sentence


def test_auditor_sees_all_their_projects(login, mirror):
    client = login("auditor")
    response = client.get(URL)
    data = chart_data(response)
    assert sorted(data["by_project"]["labels"]) == ["alpha", "beta", "gamma"]
    assert response.context["data"].stuck.count == 1


def test_lists_and_figures(login, mirror):
    client = login("admin")
    response = client.get(URL)
    content = response.content.decode()
    overview = response.context["data"]
    assert overview.stuck.count == 1
    assert overview.orphaned.count == 3  # only one snapshot's volume is in the mirror
    assert overview.old.count == 1  # older than the default 90 days
    assert re.search(r'id="figure-total">\s*4\s*<', content)
    assert reverse("snapshots:detail", args=[mirror["stuck"].pk]) in content


def test_older_than_is_a_query_parameter(login, mirror):
    client = login("admin")
    response = client.get(URL, {"older_than": "30"})
    assert response.context["data"].old.count == 2
    assert response.context["data"].older_than_days == 30
    assert "Older than 30 days" in response.content.decode()


@pytest.mark.parametrize("value", ["0", "-5", "abc", "99999"])
def test_bad_parameters_fall_back_and_say_so(login, mirror, value):
    client = login("admin")
    response = client.get(URL, {"older_than": value})
    assert response.status_code == 400
    assert response.context["data"].older_than_days == 90
    assert b"invalid-feedback" in response.content


def test_days_parameter_sets_the_per_day_window(login, mirror):
    client = login("admin")
    data = chart_data(client.get(URL, {"days": "7"}))
    assert len(data["created_per_day"]["labels"]) == 7
    assert len(data["failures_per_day"]["labels"]) == 7


def test_user_data_is_escaped_in_html_and_json(login, mirror):
    client = login("admin")
    content = client.get(URL).content.decode()
    assert "<svg onload=alert(1)>" not in content
    assert "&lt;svg onload=alert(1)&gt;" in content


def test_project_names_cannot_break_out_of_the_json_script(login, mirror):
    from snapshots.models import Project

    Project.objects.update_or_create(
        id=mirror["gamma"], defaults={"name": "</script><script>alert(1)</script>"}
    )
    client = login("admin")
    content = client.get(URL).content.decode()
    assert "</script><script>alert(1)" not in content
    labels = chart_data(client.get(URL))["by_project"]["labels"]
    assert "</script><script>alert(1)</script>" in labels


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_read_only(login, mirror, user):
    client = login(user)
    assert client.get(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_anonymous_is_sent_to_sign_in(client, cloud):
    response = client.get(URL)
    assert response.status_code == 302


def test_query_count_is_fixed(login, mirror, django_assert_max_num_queries):
    for i in range(30):
        snap = make_snapshot(mirror["alpha"], status="creating", size=i)
        move(snap, "available", timezone.now() + timedelta(seconds=i))
    client = login("admin")
    with django_assert_max_num_queries(22):
        response = client.get(URL)
    assert sum(chart_data(response)["by_status"]["datasets"][0]["data"]) == 34
