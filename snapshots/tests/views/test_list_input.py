"""Bad input on the list pages: a message next to the field or a 400, never a 500.

Every filter, sort, page and export parameter of the three lists gets values a careless user
or an attacker would send. A NUL byte must stop at the form (PostgreSQL refuses it in text).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from snapshots.filters import SnapshotFilter
from snapshots.tests.factories_audit import event, make_scope
from snapshots.tests.views.browse_helpers import (  # noqa: F401 (fixtures)
    projects_fixture,
    seeded_fixture,
)

pytestmark = pytest.mark.django_db

LISTS = {
    "/snapshots/": list(SnapshotFilter.base_filters),  # every filter the list declares
    "/snapshots/audit/": ["project", "user", "action", "outcome", "snapshot", "since", "until"],
    "/snapshots/history/": ["project", "status", "source", "snapshot", "since", "until"],
    "/snapshots/overview/": ["older_than", "days"],
}
COMMON = ["sort", "page", "per_page", "highlight", "export"]
HOSTILE = [
    "\x00",
    "a\x00b",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "-1",
    "²",
    "١٢",  # Arabic-Indic digits: isdigit() says yes, int() agrees, but they are not ours
    "1e400",
    "NaN",
    "-Infinity",
    "99999999999999999999999",
    "'",
    '"',
    "\\",
    '$."a"[0]',
    "%",
    "\u202e",
    " ",
    "x" * 5000,
]


def _params():
    for url, names in LISTS.items():
        for name in names + COMMON:
            yield url, name


@pytest.mark.parametrize(("url", "name"), list(_params()))
def test_no_value_of_any_parameter_is_a_server_error(login, seeded, url, name):
    client = login("admin")
    for value in HOSTILE:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {name: value})
        assert response.status_code in (200, 400), (name, value, response.status_code)
        sent = " ".join(str(q["sql"]) for q in queries.captured_queries)
        assert "\x00" not in sent, (name, value)


def test_a_far_date_is_a_message_next_to_the_field(login, seeded):
    response = login("admin").get("/snapshots/", {"created_before": "9999-12-31"})
    assert response.status_code == 200
    filterset = response.context["filter"]
    assert "created_before" in filterset.form.errors
    assert 'id="created_before-error"' in response.content.decode()


def test_a_nul_byte_in_the_search_is_refused_before_any_query(login, seeded):
    response = login("admin").get("/snapshots/", {"q": "abc\x00"})
    assert response.status_code == 400
    assert b"NUL bytes are not accepted" in response.content


def test_huge_sizes_are_refused_next_to_the_field(login, seeded):
    response = login("admin").get("/snapshots/", {"size_min": "99999999999999999999"})
    assert response.status_code == 200
    assert "size_min" in response.context["filter"].form.errors


@pytest.mark.parametrize("value", ["²", "١٢", "-5", "1e3", "abc"])
def test_table_settings_refuse_a_page_size_that_is_not_plain_digits(login, seeded, value):
    response = login("demo").post("/snapshots/table-settings/", {"per_page": value})
    assert response.status_code == 400


def test_table_settings_snap_a_page_size_to_an_allowed_one(login, seeded):
    from snapshots.models import TablePreference

    client = login("demo")
    response = client.post("/snapshots/table-settings/", {"per_page": "30"})
    assert response.status_code == 302
    assert TablePreference.objects.get().per_page == 50


@pytest.mark.parametrize("target", ["x", "-1", "2026-01-01", "//evil.example/", "http://e/"])
def test_table_settings_next_that_is_not_a_local_path_goes_to_the_list(login, seeded, target):
    response = login("demo").post("/snapshots/table-settings/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/snapshots/"


def test_unknown_sort_keeps_the_default_order(login, seeded):
    client = login("admin")
    default = client.get("/snapshots/").context["table"].order_by
    assert client.get("/snapshots/", {"sort": "nope"}).context["table"].order_by == default


def test_audit_filters_with_a_nul_byte_are_refused_before_any_query(login, projects):
    event(make_scope("admin", projects["alpha"]), action="sign_in")
    response = login("admin").get("/snapshots/audit/", {"user": "a\x00"})
    assert response.status_code == 400
    assert b"NUL bytes are not accepted" in response.content
