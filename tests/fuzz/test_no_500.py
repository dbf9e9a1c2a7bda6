"""No input gets a 500: hostile paths, query strings and forms over the whole URL map.

Every endpoint (the dashboard's and Django admin's, read from the resolver) is requested by
every role with GET and with a CSRF-valid POST; path segments, query parameters and form fields
(every name a form, filter or view reads) get hostile values. Any 500 or exception fails.
Django admin's pages are drawn a fifth of the time (they share one code base). Bounded:
FUZZ_EXAMPLES requests per role and method (environment, default 150).
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import ROLES
from tests.fuzz.urlmap import parameter_names, template_args, url_templates

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))

HOSTILE = [
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "99999999999999999999999999",
    "9" * 5000,
    "1e309",
    "nan",
    "-inf",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59.999999+14:00",
    "2024-02-30",
    "\u00b2",
    "\u0661\u0662",
    "\U0001d7d9",
    "x",
    "//evil.example/",
    "http://evil.example/",
    "javascript:alert(1)",
    "/\\evil.example",
    "/snapshots/?a=\r\nSet-Cookie: x=1",
    " ",
    "\r\n\t",
    "\u202egpj.exe",
    "\u2066abc\u2069\u200e\u200f",
    "\x1b[31m\x07\x7f",
    "x" * 10000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "%",
    "true",
    "on",
    "\ufeff",
    "\uffff",
    "abc:1",
    "\x00:1",
    "a:99999999999999999999999",
]

VALUE = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
TEMPLATES = url_templates()
NAMES = parameter_names()
PAIRS = st.lists(st.tuples(st.sampled_from(NAMES), VALUE), max_size=6)
SIGNED_IN_ONLY_ONCE = {"/auth/logout/", "/django-admin/logout/"}  # would end the role's session

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _segment(ids: list[str]):
    return st.one_of(st.sampled_from(ids), VALUE.filter(bool))


@st.composite
def requests_(draw, ids: list[str], post: bool):
    templates = [t for t in TEMPLATES if not (post and t in SIGNED_IN_ONLY_ONCE)]
    admin = [t for t in templates if t.startswith("/django-admin/")]
    ours = [t for t in templates if t not in admin]
    template = draw(st.sampled_from(admin if draw(st.integers(0, 4)) == 0 else ours))
    args = {name: quote(draw(_segment(ids)), safe="") for name in template_args(template)}
    url = template.format(**args)
    query = draw(PAIRS)
    if query:
        url += "?" + urlencode(query)
    form: dict[str, list[str]] = {}
    if post:
        for name, value in draw(PAIRS):
            form.setdefault(name, []).append(value)
    return url, form


def _assert_no_500(response, url: str) -> None:
    assert response.status_code != 500, url
    assert response.status_code < 500 or response.status_code == 503, (url, response.status_code)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_never_500(method, role, browser_for, mirror):
    browser = browser_for(role)

    @FUZZ
    @given(request=requests_(mirror, post=method == "post"))
    def run(request):
        url, form = request
        _assert_no_500(browser.post(url, form) if method == "post" else browser.get(url), url)

    run()
