"""No token or password reaches a log line."""

from __future__ import annotations

import logging

from snapshots.logging_filters import RedactSecrets, redact

FERNET = "gAAAAABnRlY2x4ZXhhbXBsZXRva2VudGhhdGxvb2tzcmVhbA"


def test_redacts_tokens_and_passwords():
    for line in (
        f"headers={{'X-Auth-Token': '{FERNET}'}}",
        "X-Subject-Token: abcdef0123456789",
        '{"password": "hunter2-secret"}',
        f"token={FERNET}",
    ):
        cleaned = redact(line)
        assert FERNET not in cleaned
        assert "hunter2-secret" not in cleaned
        assert "abcdef0123456789" not in cleaned
        assert "***" in cleaned


def test_filter_rewrites_the_record(caplog):
    logger = logging.getLogger("snapshots.test")
    logger.addFilter(RedactSecrets())
    try:
        with caplog.at_level(logging.INFO, logger="snapshots.test"):
            logger.info("calling with %s", {"X-Auth-Token": FERNET, "name": "nightly"})
    finally:
        logger.filters.clear()
    assert FERNET not in caplog.text
    assert "nightly" in caplog.text
