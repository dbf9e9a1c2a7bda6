"""The create page for every role: volume picker, Cinder's rules, refusals, outage, resubmit."""

from __future__ import annotations

import re

from django.test import Client

from snapshots.models import Snapshot
from snapshots.tests.actions_helpers import (
    cinder_calls,
    cut_off,
    form_key,
    mirrored_fixture,  # noqa: F401 (the fixture)
    signed_in,
    sim_snapshot,
    volumes_of,
)
from snapshots.tests.factories import make_volume

CREATE_ROUTE = "POST /volume/v3/{project_id}/snapshots"


def _form(client, volume_id: str, **extra) -> dict:
    page = client.get("/snapshots/create/")
    data = {
        "idempotency_key": form_key(page),
        "volume": volume_id,
        "name": "from-the-form",
        "description": "one line",
        "meta-TOTAL_FORMS": "2",
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "1000",
        "meta-0-key": "owner",
        "meta-0-value": "ops",
        "meta-1-key": "",
        "meta-1-value": "",
    }
    data.update(extra)
    return data


def test_member_sees_every_volume_with_reasons(mirrored, django_assert_max_num_queries):
    client = signed_in(mirrored, "demo")
    with django_assert_max_num_queries(8):
        page = client.get("/snapshots/create/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("db-primary", "db-replica", "web-data-01", "scratch-tmp"):
        assert name in html
    assert "The volume is in error; Cinder cannot snapshot it." in html
    assert re.search(r'value="[^"]+" id="volume-\d+"\s+disabled', html)  # scratch-tmp
    assert 'name="force"' in html  # Cinder 3.65: in-use needs force
    assert "build-cache" not in html  # beta's volume


def test_reader_gets_403_admin_gets_the_form(mirrored):
    assert signed_in(mirrored, "auditor").get("/snapshots/create/").status_code == 403
    assert signed_in(mirrored, "admin").get("/snapshots/create/").status_code == 200
    assert Client().get("/snapshots/create/").status_code == 302  # to the sign-in page


def test_create_lands_on_the_list_with_the_new_row(mirrored, django_assert_max_num_queries):
    client = signed_in(mirrored, "demo")
    volume = volumes_of(mirrored)["db-replica"]
    data = _form(client, volume["id"])
    with django_assert_max_num_queries(30):
        response = client.post("/snapshots/create/", data)
    assert response.status_code == 302
    row = Snapshot.objects.get(name="from-the-form")
    assert response["Location"] == f"/snapshots/?highlight={row.id}"
    assert (row.status, row.progress, row.metadata) == ("creating", 0, {"owner": "ops"})
    assert sim_snapshot(mirrored, row.id)["metadata"] == {"owner": "ops"}
    listing = client.get(response["Location"])
    assert "is being created" in listing.content.decode()


def test_double_submit_makes_one_snapshot(mirrored):
    client = signed_in(mirrored, "demo")
    data = _form(client, volumes_of(mirrored)["db-replica"]["id"])
    mirrored.reset_stats()
    first = client.post("/snapshots/create/", data)
    second = client.post("/snapshots/create/", data)
    assert first["Location"] == second["Location"]
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) == 1
    assert Snapshot.objects.filter(name="from-the-form").count() == 1


def test_in_use_without_force_is_stopped_before_cinder(mirrored):
    client = signed_in(mirrored, "demo")
    data = _form(client, volumes_of(mirrored)["db-primary"]["id"])
    mirrored.reset_stats()
    response = client.post("/snapshots/create/", data)
    assert response.status_code == 400
    assert "Cinder snapshots it only when you tick Force" in response.content.decode()
    assert cinder_calls(mirrored) == 0  # the form is shown again from the volume mirror
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None
    data["force"] = "on"
    assert client.post("/snapshots/create/", data).status_code == 302


def test_cinder_rules_are_checked_next_to_the_fields(mirrored):
    client = signed_in(mirrored, "demo")
    data = _form(
        client,
        volumes_of(mirrored)["db-replica"]["id"],
        description="two\nlines",
        name="n" * 256,
        **{"meta-1-key": "bad@key", "meta-1-value": "v" * 256},
    )
    mirrored.reset_stats()
    response = client.post("/snapshots/create/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Cinder refuses line breaks, tabs and other control characters" in html
    assert "Cinder accepts at most 255 characters (this has 256)" in html
    assert "Keys may contain only letters, digits, space and - _ : . and /" in html
    assert "two\nlines" in html  # kept for correction
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None


def test_error_volume_cannot_be_chosen(mirrored):
    client = signed_in(mirrored, "demo")
    response = client.post(
        "/snapshots/create/", _form(client, volumes_of(mirrored)["scratch-tmp"]["id"])
    )
    assert response.status_code == 400
    assert "The volume is in error" in response.content.decode()


def test_quota_refusal_is_shown_and_nothing_changes(mirrored):
    client = signed_in(mirrored, "demo")
    data = _form(client, volumes_of(mirrored)["db-replica"]["id"])
    mirrored.set_quota("alpha", gigabytes=1)
    before = Snapshot.objects.count()
    response = client.post("/snapshots/create/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Quota exceeded" in html and "Nothing was changed" in html
    assert Snapshot.objects.count() == before


def test_cloud_never_reached_keeps_the_form_filled_in(mirrored):
    client = signed_in(mirrored, "demo")
    data = _form(client, volumes_of(mirrored)["db-replica"]["id"], name="keep-me")
    session_cloud = dict(client.session["cloud"])
    cut_off(client)
    response = client.post("/snapshots/create/", data)
    assert response.status_code == 503
    html = response.content.decode()
    assert "The cloud is unreachable" in html and "Nothing was changed" in html
    assert 'value="keep-me"' in html
    assert f'value="{data["idempotency_key"]}"' in html
    session = client.session
    session["cloud"] = session_cloud
    session.save()
    assert client.post("/snapshots/create/", data).status_code == 302


def test_create_page_lists_the_volume_mirror_and_asks_cinder_nothing(mirrored):
    make_volume(mirrored.project_id("alpha"), name="mirrored-volume", size=5)  # the mirror only
    client = signed_in(mirrored, "demo")
    mirrored.reset_stats()
    page = client.get("/snapshots/create/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "mirrored-volume" in html and "db-replica" in html
    assert cinder_calls(mirrored) == 0


def test_post_needs_the_csrf_token(mirrored):
    client = Client(enforce_csrf_checks=True)
    client.post("/auth/login/", {"username": "demo", "password": "secret", "domain": "Default"})
    response = client.post("/snapshots/create/", {"volume": "x"})
    assert response.status_code == 403
