"""Hidden and reordering characters in cloud-controlled strings are shown, not obeyed, on every
page: "report\u202egpj.exe" must never read "reportexe.jpg".
"""

from __future__ import annotations

import json
import re

import pytest

from snapshots.choices import Outcome
from snapshots.models import Project, Snapshot
from snapshots.services import audit
from snapshots.templatetags.reveal import reveal_html, reveal_text
from snapshots.tests.actions_helpers import synced_snapshot
from tests.fuzz.urlmap import template_args, url_templates

NAME = "report\u202egpj.exe\x07"
DESCRIPTION = "\u2066hidden\u2069 and \u200fmarks\u200e"
META = {"note": "a\u202bb", "ok": "plain"}
VOLUME = "vol\u2067ume\u2069"
HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Form values are data, sent back as they are (an edit that changes nothing keeps the name).
FORM_VALUES = re.compile(r"<input[^>]*>|<textarea.*?</textarea>|\svalue=\"[^\"]*\"", re.DOTALL)


def test_reveal_html_marks_escapes_and_flags():
    html = str(reveal_html("<b>report\u202egpj.exe</b>"))
    assert "\u202e" not in html
    assert "\u27e8U+202E\u27e9" in html
    assert 'class="hidden-char"' in html and 'class="has-hidden-chars"' in html
    assert "&lt;b&gt;report" in html and "<b>" not in html
    assert "Right-To-Left Override" in html


def test_plain_values_are_only_escaped():
    assert str(reveal_html("a < b")) == "a &lt; b"
    assert str(reveal_html(None)) == ""
    assert reveal_text("x\r\n\t") == "x\u27e8U+000D\u27e9\u27e8U+000A\u27e9\u27e8U+0009\u27e9"
    assert reveal_text("plain é 名") == "plain é 名"


@pytest.fixture
def hostile(cloud):
    snap = synced_snapshot(cloud, VOLUME, NAME, description=DESCRIPTION, metadata=META)
    # A project name as the cloud could hand it over (the simulator's are plain).
    Project.objects.filter(id=snap.project_id).update(name="al\u202epha")
    Snapshot.objects.filter(project_id=snap.project_id).update(project_name="al\u202epha")
    audit.record(
        scope=None,
        action="snapshot_edit",
        outcome=Outcome.SUCCESS,
        target_id=snap.id,
        target_name=NAME,
        project_id=snap.project_id,
        message=f"renamed to {NAME}",
    )
    return snap


@pytest.mark.django_db
def test_no_page_lets_hidden_characters_through(login, hostile):
    client = login("admin")
    shown_on = []
    for template in url_templates():
        if template.startswith("/django-admin/"):
            continue
        url = template.format(**{name: hostile.id for name in template_args(template)})
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = FORM_VALUES.sub("", response.content.decode())
        found = HIDDEN.search(body)
        assert not found, (url, body[max(0, found.start() - 300) : found.end() + 50])
        if "\u27e8U+202E\u27e9" in body:
            shown_on.append(url)
    for url in ("/snapshots/", f"/snapshots/{hostile.id}/", "/snapshots/audit/"):
        assert url in shown_on, shown_on
    detail = client.get(f"/snapshots/{hostile.id}/").content.decode()
    for marker in ("U+2066", "U+200F", "U+202B", "U+2067", "U+0007"):  # every field
        assert f"\u27e8{marker}\u27e9" in detail, marker
    assert "has-hidden-chars" in detail


@pytest.mark.django_db
def test_exports_keep_the_stored_value(login, hostile):
    client = login("admin")
    response = client.get("/snapshots/?export=json")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert NAME in [row["name"] for row in json.loads(content)]
    assert "\u27e8" not in content.decode()


@pytest.mark.django_db
def test_the_forms_say_that_cinder_strips_the_ends_of_a_name(login, hostile):
    page = login("admin").get(f"/snapshots/{hostile.id}/edit/").content.decode()
    assert "Cinder removes spaces, tabs and line breaks at either end" in page
