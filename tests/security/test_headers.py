"""Every page carries the Content-Security-Policy, signed-in pages are never cached, no template
needs inline script or style, and the beat clears expired sessions.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from snapshots import tasks
from snapshots.models import Snapshot
from snapshots.services.sync import sync_snapshots
from tests.fuzz.urlmap import template_args, url_templates

TEMPLATES_DIR = Path(django_settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def _urls(snapshot_id: str) -> list[str]:
    urls = []
    for template in url_templates():
        args = {name: snapshot_id for name in template_args(template)}
        urls.append(template.format(**args))
    return [*urls, "/snapshots/%00/", "/no/such/page/"]


def _check_csp(response, url: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    directives = dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in policy.split(";") if part.strip()
    )
    assert directives.get("default-src") == "'self'", url
    assert directives.get("script-src") == "'self'", url
    assert "unsafe" not in policy, url
    assert directives.get("frame-ancestors") == "'none'", url


@pytest.fixture
def mirrored(cloud):
    volume = cloud.create_volume("alpha", name="v", size=1)
    cloud.create_snapshot("alpha", volume_id=volume["id"], name="busy", status="creating")
    sync_snapshots()
    return Snapshot.objects.get(name="busy")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["demo", "auditor", "admin", None])
def test_every_page_has_the_headers(role, login, client, mirrored):
    browser = login(role) if role else client
    for url in _urls(mirrored.id):
        signs_out = url.endswith("/logout/")
        responses = [browser.get(url)] + ([] if signs_out and role else [browser.post(url, {})])
        for response in responses:
            _check_csp(response, url)
            cache_control = response.get("Cache-Control", "")
            if role:
                assert "no-store" in cache_control, (url, response.status_code)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                body = response.content.decode()
                assert not INLINE_SCRIPT.search(body), url
                assert not EVENT_HANDLER.search(body), url
                if not url.startswith("/django-admin/"):
                    assert not STYLE_ATTR.search(body), url


@pytest.mark.django_db
def test_the_progress_bar_needs_no_inline_style(login, mirrored):
    body = login("demo").get("/snapshots/").content.decode()
    assert "progress-bar" in body
    assert re.search(r'class="progress-bar [^"]*pct-\d+', body)
    assert not STYLE_ATTR.search(body)


def test_no_template_has_inline_script_handlers_or_styles():
    for path in TEMPLATES_DIR.rglob("*.html"):
        text = path.read_text()
        assert not INLINE_SCRIPT.search(text), path
        assert not EVENT_HANDLER.search(text), path
        assert not STYLE_ATTR.search(text), path
        assert "<style" not in text, path


@pytest.mark.django_db
def test_the_beat_clears_expired_sessions():
    assert any(
        entry["task"] == "snapshots.tasks.clear_sessions"
        for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    )
    live = SessionStore()
    live["cloud"] = {"token": "t1"}
    live.create()
    dead = SessionStore()
    dead["cloud"] = {"token": "t2"}
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    tasks.clear_sessions()
    assert Session.objects.filter(session_key=live.session_key).exists()
    assert not Session.objects.filter(session_key=dead.session_key).exists()
