"""The snapshot list page: who sees what, sorting, paging, columns, escaping, htmx partials."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from snapshots.models import CloudState, Snapshot, TablePreference
from snapshots.tables import OPTIONAL_COLUMNS, SnapshotTable
from snapshots.tests.factories import make_snapshot
from snapshots.tests.views.browse_helpers import (  # noqa: F401 (fixtures)
    WHO_SEES_WHAT,
    projects_fixture,
    row_ids,
    seeded_fixture,
)

pytestmark = pytest.mark.django_db

ALL_COLUMNS = list(OPTIONAL_COLUMNS)


def ordered_ids(queryset, column: str, descending: bool) -> list[str]:
    """What the table must show for `?sort=[-]column`, from the column's own order_by."""
    fields = list(SnapshotTable.base_columns[column].order_by or (column,))
    if descending:
        fields = [f[1:] if f.startswith("-") else "-" + f for f in fields]
    return list(queryset.order_by(*fields).values_list("id", flat=True))


# -- who sees what ----------------------------------------------------------------------------
def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get("/snapshots/")
    assert response.status_code == 302
    assert response.url.startswith("/auth/login/")


@pytest.mark.parametrize(("user", "project", "visible"), WHO_SEES_WHAT)
def test_each_role_sees_its_projects(login, seeded, user, project, visible):
    client = login(user, project=project)
    response = client.get("/snapshots/", {"per_page": 100})
    assert response.status_code == 200
    expected = {s.pk for name in visible for s in seeded[name]}
    assert set(row_ids(response)) == expected
    assert f"<strong>{len(expected)}</strong> snapshot" in response.content.decode()


@pytest.mark.parametrize(("user", "shown"), [("demo", False), ("auditor", True), ("admin", True)])
def test_project_column_and_filter_only_for_several_projects(login, seeded, user, shown):
    response = login(user, project="alpha").get("/snapshots/")
    html = response.content.decode()
    assert ('name="project"' in html) is shown
    assert ('data-label="Project"' in html) is shown


def test_member_cannot_widen_scope_with_project_filter(login, seeded, projects):
    client = login("demo", project="alpha")
    response = client.get("/snapshots/", {"project": projects["gamma"], "per_page": 100})
    assert response.status_code == 200
    assert set(row_ids(response)) == {s.pk for s in seeded["alpha"]}


def test_deleted_snapshots_leave_the_list(login, seeded):
    gone = seeded["alpha"][0]
    Snapshot.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    ids = row_ids(login("admin").get("/snapshots/", {"per_page": 100}))
    assert gone.pk not in ids
    assert seeded["alpha"][1].pk in ids


# -- sorting ----------------------------------------------------------------------------------
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("column", ["name", "status", *ALL_COLUMNS])
def test_every_column_sorts_both_ways(login, seeded, column, descending):
    client = login("admin")
    TablePreference.objects.create(
        user_id=client.session["_auth_user_id"], table="snapshots", columns=ALL_COLUMNS
    )
    sort = ("-" if descending else "") + column
    response = client.get("/snapshots/", {"sort": sort, "per_page": 100})
    assert response.status_code == 200
    assert row_ids(response) == ordered_ids(Snapshot.objects.live(), column, descending)
    html = response.content.decode()
    assert f'aria-sort="{"descending" if descending else "ascending"}"' in html
    assert f'id="sort-{column}"' in html


def test_default_order_is_newest_first(login, seeded):
    ids = row_ids(login("admin").get("/snapshots/", {"per_page": 100}))
    assert ids == list(
        Snapshot.objects.live().order_by("-created_at", "-id").values_list("id", flat=True)
    )


def test_unknown_sort_is_ignored(login, seeded):
    response = login("admin").get("/snapshots/", {"sort": "password", "per_page": 100})
    assert response.status_code == 200
    assert len(row_ids(response)) == 37


# -- paging -----------------------------------------------------------------------------------
def test_pages_have_numbers_and_a_total(login, seeded):
    client = login("admin")
    first = client.get("/snapshots/", {"sort": "name"})
    second = client.get("/snapshots/", {"sort": "name", "page": 2})
    expected = list(Snapshot.objects.live().order_by("name", "id").values_list("id", flat=True))
    assert row_ids(first) == expected[:25]
    assert row_ids(second) == expected[25:]
    html = second.content.decode()
    assert "Rows 26&ndash;37 of 37, page 2 of 2" in html
    assert 'id="page-1"' in html and 'aria-current="page"' in html
    # links keep the sort
    assert "sort=name&amp;page=1" in html


@pytest.mark.parametrize(
    ("asked", "shown"),
    [("50", 37), ("100", 37), ("1000000", 37), ("10", 25), ("abc", 25), ("-5", 25)],
)
def test_page_size_is_capped(login, seeded, settings, asked, shown):
    response = login("admin").get("/snapshots/", {"per_page": asked})
    assert response.status_code == 200
    assert len(row_ids(response)) == shown


def test_page_size_never_exceeds_the_largest(login, projects, settings):
    for i in range(110):
        make_snapshot(projects["alpha"], history=False, name=f"bulk-{i:03d}")
    response = login("admin").get("/snapshots/", {"per_page": "1000000"})
    assert len(row_ids(response)) == max(settings.PAGE_SIZES)


def test_page_past_the_end_shows_the_last_page(login, seeded):
    response = login("admin").get("/snapshots/", {"page": 99, "sort": "name"})
    assert response.status_code == 200
    assert len(row_ids(response)) == 12


# -- columns ----------------------------------------------------------------------------------
def test_default_columns_are_short(login, seeded):
    html = login("admin").get("/snapshots/").content.decode()
    for label in ("Name", "ID", "Status", "Size", "Volume", "Project", "Created"):
        assert f'data-label="{label}"' in html
    for label in ("Metadata", "Consumes quota", "Age", "Updated", "User", "Progress"):
        assert f'data-label="{label}"' not in html


def test_column_choice_is_remembered_across_sign_out(login, seeded, client):
    login("demo")
    response = client.post(
        "/snapshots/table-settings/",
        {
            "columns": ["metadata", "age", "bogus"],
            "per_page": "50",
            "next": "/snapshots/?sort=name",
        },
    )
    assert response.status_code == 302
    assert response.url == "/snapshots/?sort=name"
    client.post("/auth/logout/")
    login("demo")
    html = client.get("/snapshots/").content.decode()
    assert 'data-label="Metadata"' in html and 'data-label="Age"' in html
    assert 'data-label="Size"' not in html
    assert len(row_ids(client.get("/snapshots/"))) == 30  # 50 per page now
    pref = TablePreference.objects.get(table="snapshots")
    assert pref.columns == ["metadata", "age"]
    assert pref.per_page == 50
    # back to the default set
    client.post("/snapshots/table-settings/", {"reset": "1", "next": "/snapshots/"})
    html = client.get("/snapshots/").content.decode()
    assert 'data-label="Size"' in html and 'data-label="Metadata"' not in html


def test_table_settings_refuses_get_and_foreign_redirects(login, seeded, client):
    login("demo")
    assert client.get("/snapshots/table-settings/").status_code == 405
    response = client.post(
        "/snapshots/table-settings/", {"columns": ["age"], "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.url == "/snapshots/"


def test_cells_render_plain_values(login, projects):
    snap = make_snapshot(
        projects["alpha"],
        name="cells",
        metadata={"a": "1", "b": "2", "c": "3", "d": "4"},
        progress=40,
        status="creating",
        consumes_quota=False,
        size=7,
    )
    client = login("admin")
    TablePreference.objects.create(
        user_id=client.session["_auth_user_id"], table="snapshots", columns=ALL_COLUMNS
    )
    html = client.get("/snapshots/").content.decode()
    row = re.search(rf'<tr id="row-{snap.pk}".*?</tr>', html, re.S).group(0)
    assert "7 GiB" in row
    assert "a=1" in row and "c=3" in row and "+1 more" in row
    assert 'aria-valuenow="40"' in row  # progress bar on a transitional row
    assert f'data-copy="{snap.pk}"' in row
    assert f'<time datetime="{snap.created_at.isoformat()}"' in row
    assert ">No<" in row
    assert f'name="row" value="{snap.pk}:{snap.version}"' in row


# -- escaping and layout ----------------------------------------------------------------------
def test_names_with_html_render_as_text(login, projects):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    make_snapshot(projects["alpha"], name=evil, description=evil, metadata={evil: evil})
    client = login("admin")
    TablePreference.objects.create(
        user_id=client.session["_auth_user_id"], table="snapshots", columns=ALL_COLUMNS
    )
    html = client.get("/snapshots/").content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_long_names_wrap(login, projects):
    long_name = "n" * 255
    make_snapshot(projects["alpha"], name=long_name, volume_name="v" * 255)
    html = login("admin").get("/snapshots/").content.decode()
    assert long_name in html
    assert 'class="snapshot-name"' in html  # overflow-wrap: anywhere (dashboard.css)


# -- filters on the page ----------------------------------------------------------------------
def test_invalid_filter_shows_a_message_and_keeps_the_rest(login, seeded):
    response = login("demo").get(
        "/snapshots/", {"size_min": "abc", "status": "error", "created_after": "yesterday"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html
    assert "Size from (GiB)" in html and "Created from" in html
    expected = {s.pk for s in seeded["alpha"] if s.status == "error"}
    assert set(row_ids(response)) == expected and expected


def test_filters_and_sort_are_kept_in_links(login, seeded):
    response = login("demo").get("/snapshots/", {"status": ["available", "error"], "sort": "-size"})
    html = response.content.decode()
    assert "status=available&amp;status=error" in html
    assert "export=csv" in html
    # the filter form carries the sort, the page-size form the filters
    assert '<input type="hidden" name="sort" value="-size">' in html
    assert '<input type="hidden" name="status" value="error">' in html


# -- htmx, sync note, cost --------------------------------------------------------------------
def test_htmx_request_gets_the_results_partial(login, seeded):
    response = login("admin").get("/snapshots/", {"sort": "name"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="list-results"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]
    full = login("admin").get("/snapshots/")
    assert "HX-Request" in full["Vary"]


def test_last_synced_note(login, seeded):
    client = login("admin")
    assert "Not synced with the cloud yet" in client.get("/snapshots/").content.decode()
    CloudState.objects.update_or_create(id=1, defaults={"last_sync_ok_at": timezone.now()})
    assert "Last synced with the cloud" in client.get("/snapshots/").content.decode()


@pytest.mark.parametrize("user", ["demo", "auditor", "admin"])
def test_query_count_does_not_grow_with_rows(login, projects, django_assert_max_num_queries, user):
    for i in range(120):
        make_snapshot(projects["alpha"], history=False, status="creating" if i % 2 else "available")
    client = login(user, project="alpha")
    TablePreference.objects.create(
        user_id=client.session["_auth_user_id"], table="snapshots", columns=ALL_COLUMNS
    )
    for per_page in (25, 100):
        with django_assert_max_num_queries(12):
            response = client.get(
                "/snapshots/", {"per_page": per_page, "status": ["creating", "available"]}
            )
        assert len(row_ids(response)) == per_page


def test_list_makes_no_cloud_call(login, seeded, cloud):
    client = login("admin")
    cloud.reset_stats()
    client.get("/snapshots/", {"sort": "-size", "status": "available"})
    client.get("/snapshots/", {"export": "csv"})
    assert cloud.stats()["total"] == 0


def test_highlighted_row_flashes(login, seeded):
    target = seeded["alpha"][3]
    html = login("demo").get("/snapshots/", {"highlight": target.pk}).content.decode()
    row = re.search(rf'<tr id="row-{target.pk}"[^>]*>', html).group(0)
    assert "row-updated" in row
    assert html.count("row-updated") == 1


def test_phone_sort_menu_offers_every_visible_column(login, seeded):
    html = login("demo").get("/snapshots/", {"sort": "-size", "status": "error"}).content.decode()
    menu = re.search(r'<form [^>]*id="phone-sort".*?</form>', html, re.S).group(0)
    assert '<option value="-size" selected>Size, descending</option>' in menu
    assert '<option value="name">Name, ascending</option>' in menu
    assert '<input type="hidden" name="status" value="error">' in menu
    assert 'name="sort" value=' not in menu  # the menu itself sets the sort
