"""What people do with the dashboard, for Locust (bench/load/run.py drives it headless).

`Person`: signs in once (admin, auditor or demo member, in turn), then reads: the list (first
page, a deep page, a filter or sort), a snapshot's detail page, the audit log, the status
history, the overview, and now and then a filtered CSV export; a think time of 2-4 s (mean
3 s) between two pages. `Tab`: an open list page whose live poller asks every
LIVE_POLL_SECONDS (3 s) which of its transitional rows changed, nothing else.
"""

from __future__ import annotations

import itertools
import os
import random
import re

from locust import HttpUser, between, constant, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "secret")
POLL_SECONDS = float(os.environ.get("LIVE_POLL_SECONDS", "3"))
ROW = re.compile(r'name="row" value="([^"]+)" data-live')
DETAIL = re.compile(r'href="/snapshots/([0-9a-f-]{36})/"')
_who = itertools.cycle(["admin", "auditor", "demo"])


def sign_in(user: HttpUser, name: str) -> None:
    user.client.get("/auth/login/", name="sign-in form")
    token = user.client.cookies.get("csrftoken", "")
    answer = user.client.post(
        "/auth/login/",
        {"username": name, "password": PASSWORD, "domain": "Default", "csrfmiddlewaretoken": token},
        headers={"Referer": user.host + "/auth/login/"},
        name="sign in",
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{name} could not sign in: {answer.status_code}")


class Person(HttpUser):
    wait_time = between(2, 4)

    def on_start(self) -> None:
        sign_in(self, next(_who))
        self.seen: list[str] = []

    def _list(self, name: str, **params) -> None:
        with self.client.get("/snapshots/", params=params, name=name, catch_response=True) as r:
            if r.status_code == 200:
                self.seen = DETAIL.findall(r.text)[:25] or self.seen
                r.success()

    @task(30)
    def list_first_page(self) -> None:
        self._list("list")

    @task(10)
    def list_deep_page(self) -> None:
        self._list("list page n", page=random.randint(2, 200))

    @task(15)
    def list_filtered(self) -> None:
        choice = random.choice(
            [
                {"status": "error"},
                {"q": random.choice(["db", "web", "backup", "nightly", "x"])},
                {"sort": random.choice(["-size", "name", "-created_at"])},
                {"size_min": 10, "size_max": 50},
                {"meta_key": "env"},
            ]
        )
        self._list("list filtered/sorted", **choice)

    @task(20)
    def detail(self) -> None:
        if not self.seen:
            return self.list_first_page()
        self.client.get(f"/snapshots/{random.choice(self.seen)}/", name="detail")

    @task(5)
    def audit(self) -> None:
        self.client.get("/snapshots/audit/", name="audit log")

    @task(5)
    def history(self) -> None:
        self.client.get("/snapshots/history/", name="history")

    @task(5)
    def overview(self) -> None:
        self.client.get("/snapshots/overview/", name="overview")

    @task(2)
    def export(self) -> None:
        self.client.get("/snapshots/", params={"export": "csv", "status": "error"}, name="export")


class Tab(HttpUser):
    wait_time = constant(POLL_SECONDS)

    def on_start(self) -> None:
        sign_in(self, next(_who))
        page = self.client.get(
            "/snapshots/", params={"status": ["creating", "deleting"]}, name="tab opens list"
        )
        self.rows = ROW.findall(page.text)[:25]

    @task
    def poll(self) -> None:
        with self.client.get(
            "/snapshots/live/", params={"row": self.rows}, name="live", catch_response=True
        ) as answer:
            if answer.status_code in (200, 204, 286):
                answer.success()
