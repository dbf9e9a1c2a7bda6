"""Shared bits of the browse view tests: the seeded mirror and reading rows back from HTML."""

from __future__ import annotations

import re

import pytest

from snapshots.tests.factories import seed_projects, seed_snapshots

ROW_ID = re.compile(r'<tr id="row-([^"]+)"')

# (user, project signed into, projects whose snapshots they may see): a member sees the project
# they are signed into, an auditor and an admin every project.
WHO_SEES_WHAT = [
    ("demo", "alpha", {"alpha"}),
    ("demo", "beta", {"beta"}),
    ("auditor", "alpha", {"alpha", "beta", "gamma"}),
    ("admin", "alpha", {"alpha", "beta", "gamma"}),
]


def row_ids(response) -> list[str]:
    return ROW_ID.findall(response.content.decode())


# Imported by the test modules under these function names; tests ask for `projects`/`seeded`.
@pytest.fixture(name="projects")
def projects_fixture(cloud, db):
    return seed_projects(cloud)


@pytest.fixture(name="seeded")
def seeded_fixture(projects):
    """30 snapshots in alpha, 4 in beta, 3 in gamma; see factories.seed_snapshots."""
    return seed_snapshots(projects)
