"""Signed-in clients for every role, each a browser that sends its CSRF token with every POST."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from snapshots.models import Snapshot
from snapshots.services.sync import sync_snapshots

# member, reader/auditor, admin, anonymous, and a Django superuser signed in to Django admin
ROLES = ("demo", "auditor", "admin", None, "staff")


class Browser:
    """A test client with CSRF enforced, sending the current token with every POST."""

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.get("/auth/login/")

    def token(self) -> str:
        return self.client.cookies["csrftoken"].value

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, data: dict):
        return self.client.post(url, {**data, "csrfmiddlewaretoken": self.token()})

    def sign_in_to_django_admin(self) -> Browser:
        User.objects.create_superuser("root", password="a-long-password-1")
        self.client.get("/django-admin/login/")
        response = self.post(
            "/django-admin/login/", {"username": "root", "password": "a-long-password-1"}
        )
        assert response.status_code == 302, response.content[:300]
        return self

    def sign_in(self, user: str) -> Browser:
        response = self.post(
            "/auth/login/", {"username": user, "password": "secret", "domain": "Default"}
        )
        assert response.status_code == 302, response.content[:300]
        return self


@pytest.fixture
def mirror(cloud):
    """The demo cloud in the mirror: ids the fuzz can aim at (own and other projects)."""
    sync_snapshots()
    ids = list(Snapshot.objects.order_by("id").values_list("id", flat=True)[:6])
    assert ids
    return ids


@pytest.fixture
def browser_for(cloud):
    def make(user: str | None) -> Browser:
        browser = Browser()
        if user == "staff":
            return browser.sign_in_to_django_admin()
        return browser.sign_in(user) if user else browser

    return make
