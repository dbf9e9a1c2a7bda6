"""A person at a browser, as plain HTTP: signs in through the login form, opens a form for its
CSRF token and idempotency key, posts it, reads pages back."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

TIMEOUT = 60


def create_fields(volume_id: str, name: str, description: str = "") -> dict[str, str]:
    """The create form as a browser sends it: one empty metadata row."""
    return {
        "volume": volume_id,
        "name": name,
        "description": description,
        "meta-TOTAL_FORMS": "1",
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "1000",
        "meta-0-key": "",
        "meta-0-value": "",
    }


class Visitor:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = requests.Session()

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.base + path, timeout=TIMEOUT, allow_redirects=False, **kw)

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        headers = {"Referer": self.base + path}
        csrf = self.http.cookies.get("csrftoken")
        if csrf:
            data = {"csrfmiddlewaretoken": csrf, **data}
        return self.http.post(
            self.base + path, data=data, headers=headers, timeout=TIMEOUT, allow_redirects=False
        )

    @staticmethod
    def field(page: requests.Response, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
        assert found, f"no field {name} on {page.url} ({page.status_code})"
        return html.unescape(found.group(1))

    def sign_in(self, user: str, password: str, project_id: str | None = None) -> None:
        page = self.get("/auth/login/")
        assert page.status_code == 200, page.text[:500]
        answer = self.post(
            "/auth/login/", {"username": user, "password": password, "domain": "Default"}
        )
        assert answer.status_code == 302, f"sign-in answered {answer.status_code}"
        if project_id:
            answer = self.post("/auth/project/", {"project_id": project_id})
            assert answer.status_code == 302, f"project switch answered {answer.status_code}"

    def post_form(self, path: str, fields: dict[str, Any]) -> requests.Response:
        """GET the form (CSRF cookie, idempotency key), then POST it like a browser."""
        page = self.get(path)
        assert page.status_code == 200, f"GET {path}: {page.status_code}\n{page.text[:500]}"
        return self.post(path, {"idempotency_key": self.field(page, "idempotency_key"), **fields})

    def create(self, volume_id: str, name: str, description: str = "") -> requests.Response:
        return self.post_form("/snapshots/create/", create_fields(volume_id, name, description))

    def delete(self, snapshot_id: str) -> requests.Response:
        return self.post_form(f"/snapshots/{snapshot_id}/delete/", {})

    def status(self, snapshot_id: str) -> str:
        """The status the detail page shows ('' when the page has none, e.g. after deletion)."""
        page = self.get(f"/snapshots/{snapshot_id}/")
        if page.status_code != 200:
            return f"http {page.status_code}"
        found = re.search(r'id="snapshot-status"[^>]*>(.*?)</div>', page.text, re.S)
        if not found:
            return ""
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()).lower()

    def messages(self, page: requests.Response) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
