"""What must hold after every fault: no snapshot created twice; every attempted action has
exactly one audit event, whose final outcome matches the cloud; what the person was told
matches it too; the mirror equals the cloud within one sync period; the worker and the beat run.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime

import requests

from tests.production.client import Visitor, create_fields
from tests.production.shape import ProductionStack, ScratchDatabase, wait_for

GONE = {"deleting", "gone"}
FINAL = {"success", "refused", "denied", "failed"}  # "unknown" is not final: it is reconciled
SAID_NOTHING_CHANGED = "Nothing was changed"


@dataclass
class Attempt:
    """One action a person attempted (a resend of the same form included)."""

    kind: str  # "create" or "delete"
    name: str = ""
    snapshot_id: str = ""
    answers: list[requests.Response] = field(default_factory=list)
    path: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    person: Visitor | None = None  # who sent it (reads the result page)

    def told(self) -> str:
        last = self.answers[-1]
        if last.status_code == 302 and "/snapshots/operation/" in last.headers.get("Location", ""):
            return "checking"  # the result page, which shows the outcome once it is known
        if last.status_code == 302:
            return "done"
        text = " ".join(re.sub(r"<[^>]+>", " ", last.text).split())
        return "nothing changed" if SAID_NOTHING_CHANGED in text else f"other ({last.status_code})"


# --- the cloud and the mirror ---------------------------------------------------------------------
def cloud_snapshots(sim) -> dict[str, tuple[str, str]]:
    """id -> (name, status) of every snapshot in the simulated cloud (admin, all projects)."""
    token = sim.token("admin", "alpha")
    url = f"{sim.volume_endpoint('alpha')}/snapshots/detail"
    found: dict[str, tuple[str, str]] = {}
    marker = None
    while True:
        params = {"all_tenants": "True", "limit": 1000, **({"marker": marker} if marker else {})}
        answer = sim.http.get(url, params=params, headers={"X-Auth-Token": token}, timeout=60)
        answer.raise_for_status()
        page = answer.json()["snapshots"]
        found.update({s["id"]: (s.get("name") or "", s["status"]) for s in page})
        if len(page) < 1000:
            return found
        marker = page[-1]["id"]


def mirror_snapshots(db: ScratchDatabase) -> dict[str, tuple[str, str]]:
    rows = db.query("SELECT id, name, status FROM snapshots_snapshot WHERE deleted_at IS NULL")
    return {sid: (name, status) for sid, name, status in rows}


def mirror_matches_cloud(sim, db: ScratchDatabase, within: float) -> None:
    def same() -> bool:
        return cloud_snapshots(sim) == mirror_snapshots(db)

    try:
        wait_for("the mirror equal to the cloud", same, timeout=within, interval=1)
    except AssertionError:
        cloud, mirror = cloud_snapshots(sim), mirror_snapshots(db)
        only_cloud = {k: v for k, v in cloud.items() if mirror.get(k) != v}
        only_mirror = {k: v for k, v in mirror.items() if cloud.get(k) != v}
        raise AssertionError(
            f"the mirror differs from the cloud {within:.0f} s on: cloud has {only_cloud}, "
            f"mirror has {only_mirror}"
        ) from None


# --- the audit --------------------------------------------------------------------------------
def audit_events(db: ScratchDatabase, attempt: Attempt) -> list[tuple[str, str]]:
    """One (final outcome, target) per submission the server took: a submission whose outcome
    was unknown has the outcome of the event that reconciled it ("unknown" until then)."""
    if attempt.kind == "create":
        rows = db.query(
            "SELECT id, outcome, coalesce(target_id, '') FROM snapshots_auditevent "
            "WHERE action = 'create_snapshot' AND parameters->>'name' = %s ORDER BY id",
            attempt.name,
        )
    else:
        rows = db.query(
            "SELECT id, outcome, target_id FROM snapshots_auditevent WHERE action = "
            "'delete_snapshot' AND target_id = %s AND NOT parameters ? 'reconciles' ORDER BY id",
            attempt.snapshot_id,
        )
    found = []
    for event_id, outcome, target in rows:
        if outcome == "unknown":
            later = db.query(
                "SELECT outcome, coalesce(target_id, '') FROM snapshots_auditevent "
                "WHERE parameters->>'reconciles' = %s ORDER BY id",
                str(event_id),
            )
            if later:
                outcome, target = later[-1][0], later[-1][1] or target
        found.append((outcome, target))
    return found


def check(
    stack: ProductionStack, sim, db: ScratchDatabase, attempts: list[Attempt], sync_period: float
) -> None:
    # 1. Nothing created twice.
    names = [name for name, _ in cloud_snapshots(sim).values()]
    for attempt in attempts:
        if attempt.kind == "create":
            assert names.count(attempt.name) <= 1, f"{attempt.name} was created twice"

    # 2. One audit event per attempt, whose final outcome (after reconciliation) is the cloud's.
    for attempt in attempts:
        what = f"{attempt.kind} of {attempt.name or attempt.snapshot_id}"

        def final(a: Attempt = attempt) -> list[tuple[str, str]] | None:
            events = audit_events(db, a)
            return events if events and all(o in FINAL for o, _ in events) else None

        try:
            events = wait_for(f"a final audit outcome for the {what}", final, sync_period * 2)
        except AssertionError:
            events = audit_events(db, attempt)
            raise AssertionError(f"the {what}: no final audit outcome: {events}") from None
        # One event per submission the server took (a resend of a settled form writes none),
        # and exactly one success when, and only when, the cloud did it.
        assert 1 <= len(events) <= len(attempt.answers), (attempt.kind, attempt.name, events)
        successes = [outcome for outcome, _ in events if outcome == "success"]
        cloud = cloud_snapshots(sim)
        if attempt.kind == "create":
            acted = attempt.name in [name for name, _ in cloud.values()]
        else:
            acted = cloud.get(attempt.snapshot_id, ("", "gone"))[1] in GONE
        assert len(successes) == (1 if acted else 0), (
            f"{attempt.kind} {attempt.name or attempt.snapshot_id}: audit says {events}, "
            f"the cloud says {'done' if acted else 'not done'}"
        )
        # 3. What the person was told.
        told = attempt.told()
        if told == "done":
            assert acted, f"{attempt.kind} {attempt.name}: the page said done; the cloud did not"
        if told == "nothing changed":
            assert not acted, f"{attempt.kind} {attempt.name}: told nothing changed; it was done"
        if told == "checking":  # the result page now says what the cloud did
            assert attempt.person is not None
            page = attempt.person.get(attempt.answers[-1].headers["Location"])
            state = "done" if acted else "not_done"
            assert f'data-state="{state}"' in page.text, (attempt.name, state, page.text[-800:])

    # 4. The mirror equals the cloud within one sync period (plus a tick).
    mirror_matches_cloud(sim, db, within=sync_period + 5)

    # 5. Still running.
    stack.assert_running()


# --- what a person does ---------------------------------------------------------------------------
def create(person: Visitor, volume_id: str, name: str, *, resend: bool = True) -> Attempt:
    """Create through the form; if the answer is not a success, send the same form again once
    (the page keeps the input and invites a resend)."""
    page = person.get("/snapshots/create/")
    assert page.status_code == 200, page.status_code
    key = person.field(page, "idempotency_key")
    fields = {"idempotency_key": key, **create_fields(volume_id, name, "fault suite")}
    attempt = Attempt("create", name=name, path="/snapshots/create/", fields=fields)
    send(person, attempt)
    if resend:
        send_again_unless_done(person, attempt)
    return attempt


def send(person: Visitor, attempt: Attempt) -> None:
    attempt.person = person
    answer = person.post(attempt.path, attempt.fields)
    attempt.answers.append(answer)
    assert answer.status_code < 500 or answer.status_code == 503, (
        f"{attempt.kind} answered {answer.status_code}: never a 500"
    )


def send_again_unless_done(person: Visitor, attempt: Attempt) -> None:
    """What a person does with a kept form that did not say done: send the same form again."""
    if attempt.answers[-1].status_code != 302:
        time.sleep(1)
        send(person, attempt)


def worker_log_events(stack: ProductionStack, task: str, since: datetime) -> list[str]:
    """The result texts of `task` (e.g. 'snapshots.tasks.sync') that succeeded since `since`."""
    found = []
    pattern = re.compile(
        r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+: INFO/\S+\] Task "
        + re.escape(task)
        + r"\[[^\]]+\] succeeded in [\d.]+s: (.*)$"
    )
    for line in stack.logs("worker").splitlines():
        match = pattern.match(line)
        if match and datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S") >= since:
            found.append(match.group(2))
    return found
