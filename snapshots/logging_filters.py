"""A logging filter that keeps tokens and passwords out of every log line."""

import logging
import re

_PATTERNS = [
    re.compile(r"(?i)(x-(?:auth|subject)-token['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)"),
    re.compile(
        r"(?i)(['\"]?(?:password|token|secret|auth_token|unscoped_token)['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)"
    ),
    re.compile(r"(gAAAAA[A-Za-z0-9_\-]{20,})"),  # Fernet tokens
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + "***", text)
        else:
            text = pattern.sub("***", text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True
