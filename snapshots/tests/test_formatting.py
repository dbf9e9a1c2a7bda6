"""The one place durations and relative times are worded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from snapshots.formatting import duration, relative, relative_time, seconds_duration


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (0, "0 s"),
        (4.9, "4 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (3600, "1 h"),
        (3600 * 3 + 720, "3 h 12 min"),
        (86400 * 2, "2 d"),
        (86400 * 2 + 3600 * 4 + 61, "2 d 4 h"),
    ],
)
def test_duration(seconds, label):
    assert duration(timedelta(seconds=seconds)) == label
    assert seconds_duration(seconds) == label


def test_unknown_duration_is_empty():
    assert duration(None) == ""
    assert seconds_duration(None) == ""


NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "label"),
    [
        (timedelta(seconds=30), "less than a minute"),
        (timedelta(minutes=5), "5 minutes"),
        (timedelta(hours=1, minutes=1), "1 hour, 1 minute"),
        (timedelta(days=3, hours=4, minutes=5), "3 days, 4 hours"),
        (timedelta(days=400), "1 year, 35 days"),
        (timedelta(seconds=-5), "0 minutes"),
    ],
)
def test_relative(ago, label):
    assert relative(NOW - ago, NOW) == label


def test_relative_time_is_a_time_element_that_escapes_nothing_it_should_not():
    html = relative_time(NOW - timedelta(hours=2), now=NOW)
    assert html.startswith('<time datetime="2026-05-01T10:00:00+00:00"')
    assert html.endswith(">2 hours ago</time>")
    assert relative_time(None, now=NOW) == "\u2014"
