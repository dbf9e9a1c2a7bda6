"""Past PROJECT_MENU_MAX readable projects the project filter is a box for the project's ID
(a menu of thousands of projects cost more than the rest of the page), still checked against
the projects the person may read."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from snapshots.tests.factories_audit import make_snapshot

pytestmark = pytest.mark.django_db

PAGES = [reverse("snapshots:list"), reverse("snapshots:audit"), reverse("snapshots:history")]


@pytest.fixture
def rows(cloud):
    ids = {p: cloud.project_id(p) for p in ("alpha", "beta", "gamma")}
    for project, project_id in ids.items():
        make_snapshot(project_id, name=f"in-{project}")
    return ids


@pytest.mark.parametrize("url", PAGES)
def test_a_few_projects_are_a_menu(login, rows, url):
    html = login("admin").get(url).content.decode()
    assert re.search(r'<select name="project"', html)


@pytest.mark.parametrize("url", PAGES)
def test_many_projects_are_a_box_for_the_id(login, rows, url, settings):
    settings.PROJECT_MENU_MAX = 2
    html = login("admin").get(url).content.decode()
    assert not re.search(r'<select name="project"', html)
    assert re.search(r'<input type="text" name="project"[^>]*placeholder="Project ID"', html)


def test_the_box_filters_by_the_id(login, rows, settings):
    settings.PROJECT_MENU_MAX = 2
    html = login("admin").get(reverse("snapshots:list"), {"project": rows["beta"]}).content.decode()
    assert "in-beta" in html and "in-alpha" not in html and "in-gamma" not in html
