"""The inputs that once answered 500, and a sweep of every hostile value into every parameter.

Deterministic companions to test_no_500.py: each case here failed before and must stay fixed
whatever Hypothesis happens to draw.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest

from snapshots.models import AuditEvent
from tests.fuzz.test_no_500 import HOSTILE, NAMES, TEMPLATES, _assert_no_500
from tests.fuzz.urlmap import template_args

pytestmark = pytest.mark.django_db(transaction=True)

KNOWN_GET = [
    "/snapshots/?created_before=9999-12-31",
    "/snapshots/?created_after=9999-12-31",
    "/snapshots/live/?row=%00:1",
    "/snapshots/live/?row=x:%C2%B2&row=y:99999999999999999999999999",
    "/snapshots/bulk/delete/?ids=%00",
    "/snapshots/%00/",
    "/snapshots/%00/edit/",
    "/snapshots/bulk/delete/?ids={id}&next=x",
    "/snapshots/history/?since=9999-12-31T23:59:59%2B14:00",
]
KNOWN_POST = [
    ("/snapshots/bulk/delete/", {"ids": ["\x00"]}),
    ("/snapshots/bulk/delete/", {"ids": ["{id}"], "next": "x"}),
    ("/snapshots/bulk/delete/", {"ids": ["{id}"], "next": "-1"}),
    ("/snapshots/table-settings/", {"per_page": "\u00b2", "next": "2024-01-01"}),
    ("/snapshots/table-settings/", {"per_page": "9" * 5000, "next": "x"}),
]


@pytest.mark.parametrize("role", ["demo", "admin"])
def test_known_bad_inputs_get_no_500(role, browser_for, mirror):
    browser = browser_for(role)
    for url in KNOWN_GET:
        url = url.format(id=mirror[0])
        _assert_no_500(browser.get(url), url)
    for url, form in KNOWN_POST:
        data = {
            k: [v.format(id=mirror[0]) for v in vs] if isinstance(vs, list) else vs
            for k, vs in form.items()
        }
        _assert_no_500(browser.post(url, data), url)


def test_nul_is_refused_with_400(browser_for, mirror):
    browser = browser_for("admin")
    assert browser.get("/snapshots/live/?row=%00:1").status_code == 400
    assert browser.get("/snapshots/%00/").status_code == 400
    assert browser.post("/snapshots/bulk/delete/", {"ids": ["\x00"]}).status_code == 400


@pytest.mark.parametrize(
    "target", ["x", "-1", "2024-01-01", "//evil.example/", "http://evil.example/"]
)
def test_sign_in_with_a_bad_next_goes_home_and_is_audited_once(client, cloud, target):
    response = client.post(
        "/auth/login/?next=" + quote(target, safe=""),
        {"username": "demo", "password": "secret", "domain": "Default"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/snapshots/"
    assert "cloud" in client.session
    assert AuditEvent.objects.filter(action="sign_in", outcome="success").count() == 1


def test_sign_in_keeps_a_local_next(client, cloud):
    response = client.post(
        "/auth/login/",
        {
            "username": "demo",
            "password": "secret",
            "domain": "Default",
            "next": "/snapshots/audit/?q=1",
        },
    )
    assert response["Location"] == "/snapshots/audit/?q=1"


def test_every_hostile_value_in_every_parameter(browser_for, mirror):
    """Each dashboard URL, with every parameter name set to one hostile value at a time, as the
    admin (who reaches every view and every branch a member does; the fuzz covers all roles)."""
    browser = browser_for("admin")
    templates = [t for t in TEMPLATES if not t.startswith("/django-admin/") and "logout" not in t]
    for template in templates:
        url = template.format(**{name: mirror[0] for name in template_args(template)})
        for value in HOSTILE:
            query = urlencode([(name, value) for name in NAMES])
            _assert_no_500(browser.get(f"{url}?{query}"), f"{url} <- {value!r}")
            _assert_no_500(
                browser.post(url, dict.fromkeys(NAMES, value)), f"POST {url} <- {value!r}"
            )


def test_a_django_admin_only_sign_in_is_sent_to_the_cloud_sign_in(browser_for, mirror):
    staff = browser_for("staff")
    assert staff.get("/django-admin/").status_code == 200
    for url in ("/snapshots/", f"/snapshots/{mirror[0]}/", "/snapshots/audit/"):
        response = staff.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/auth/login/?next="), url
    assert staff.post(f"/snapshots/{mirror[0]}/delete/", {}).status_code == 302
