"""What the person sees when Cinder's answer does not come, when a form is reused for another
snapshot, and when the dashboard's own follow-up fails after Cinder acted."""

from __future__ import annotations

from django.db import OperationalError

from snapshots import tasks
from snapshots.choices import Outcome
from snapshots.models import AuditEvent, Operation, Snapshot
from snapshots.services import mirror, queue
from snapshots.tests.actions_helpers import (
    mirrored_fixture,  # noqa: F401 (the fixture)
    opened_form,
    pick,
    picks,
    signed_in,
    sim_snapshot,
    volumes_of,
)
from snapshots.tests.views.test_actions_create import _form

CREATE_ROUTE = "POST /volume/v3/{project_id}/snapshots"


def test_a_lost_answer_says_checking_then_shows_the_outcome(
    mirrored, settings, django_capture_on_commit_callbacks, enqueued
):
    settings.ACTION_TIMEOUT = 1.0
    client = signed_in(mirrored, "demo")
    data = _form(client, volumes_of(mirrored)["db-replica"]["id"], name="hung-create")
    mirrored.faults(answer_delay_ms=2500)  # Cinder creates it, the answer comes too late
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/snapshots/create/", data)
    mirrored.clear_faults()
    event = AuditEvent.objects.get(action="create_snapshot")
    assert event.outcome == Outcome.UNKNOWN
    assert response.status_code == 302
    assert response["Location"] == f"/snapshots/operation/?event={event.id}"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Cinder did not answer in time; we are checking whether it was done." in html
    assert 'data-state="unknown"' in html and 'http-equiv="refresh"' in html
    assert ("snapshots.tasks.reconcile", {"key": data["idempotency_key"]}) in enqueued

    # The same form sent again meanwhile is not sent to Cinder a second time.
    mirrored.reset_stats()
    again = client.post("/snapshots/create/", data)
    assert again["Location"] == response["Location"]
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None

    # The worker finds the snapshot Cinder made; the page now says so.
    assert tasks.reconcile.apply(kwargs={"key": data["idempotency_key"]}).get() == "succeeded"
    row = Snapshot.objects.get(name="hung-create")
    html = client.get(response["Location"]).content.decode()
    assert 'data-state="done"' in html and f"/snapshots/{row.id}/" in html
    assert 'http-equiv="refresh"' not in html
    # ... and a resend lands on that snapshot, still without a second create.
    third = client.post("/snapshots/create/", data)
    assert third["Location"] == f"/snapshots/?highlight={row.id}"
    assert mirrored.stats()["by_route"].get(CREATE_ROUTE) is None


def test_only_the_person_who_acted_sees_the_result_page(mirrored, settings):
    settings.ACTION_TIMEOUT = 1.0
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/delete/")
    mirrored.faults(answer_delay_ms=2500)
    response = client.post(f"/snapshots/{snap.id}/delete/", {"idempotency_key": key})
    mirrored.clear_faults()
    assert response["Location"].startswith("/snapshots/operation/?event=")
    assert client.get(response["Location"]).status_code == 200
    assert signed_in(mirrored, "auditor").get(response["Location"]).status_code == 404
    assert signed_in(mirrored, "admin").get(response["Location"]).status_code == 200


def test_a_form_reused_for_another_snapshot_is_refused(mirrored):
    first, second = picks(mirrored.project_id("alpha"), "available", 2)
    client, key = opened_form(mirrored, f"/snapshots/{first.id}/delete/")
    done = client.post(f"/snapshots/{first.id}/delete/", {"idempotency_key": key}, follow=True)
    assert "Deletion of" in done.content.decode()
    response = client.post(f"/snapshots/{second.id}/delete/", {"idempotency_key": key}, follow=True)
    assert "already used for another action or snapshot" in response.content.decode()
    assert "Deletion of" not in response.content.decode()
    assert sim_snapshot(mirrored, second.id)["status"] == "available"
    refused = AuditEvent.objects.get(action="delete_snapshot", target_id=second.id)
    assert refused.outcome == Outcome.DENIED


def test_a_broker_failure_after_cinder_acted_is_not_a_500(
    mirrored, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(task, kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(queue, "send", broker_down)
    client = signed_in(mirrored, "demo")
    data = _form(client, volumes_of(mirrored)["db-replica"]["id"], name="no-broker")
    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = client.post("/snapshots/create/", data, follow=True)
    assert sent  # tracking was asked for, and the broker refused it
    assert response.status_code == 200
    assert "is being created" in response.content.decode()
    row = Snapshot.objects.get(name="no-broker")
    assert sim_snapshot(mirrored, row.id) is not None
    event = AuditEvent.objects.get(action="create_snapshot")
    assert (event.outcome, event.target_id) == (Outcome.SUCCESS, row.id)
    assert Operation.objects.get(pk=data["idempotency_key"]).state == Operation.DONE


def test_a_database_failure_after_cinder_acted_says_done_not_500(mirrored, monkeypatch):
    snap = pick(mirrored.project_id("alpha"), "available")
    client, key = opened_form(mirrored, f"/snapshots/{snap.id}/delete/")

    def database_down(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(mirror, "apply", database_down)
    response = client.post(f"/snapshots/{snap.id}/delete/", {"idempotency_key": key}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deletion of" in html and "could not record it yet" in html
    assert sim_snapshot(mirrored, snap.id)["status"] in ("deleting", "deleted")
