"""gunicorn's access log without the open tabs' "nothing changed" answers.

Every open tab with changing rows asks /snapshots/live/stamp twice a second (views/live.py);
almost every answer is a 204 that says nothing happened. Two hundred tabs would write four
hundred such lines a second (tens of millions a day) and spend a good part of the web tier's CPU
formatting them. Those lines are left out; every other answer of the live check (a new stamp,
a refused ticket) and every other request is logged as before.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

LIVE_STAMP_PATH = "/snapshots/live/stamp"  # settings.LIVE_STAMP_PATH (a test keeps them equal)


def is_quiet_check(resp, req) -> bool:
    return getattr(resp, "status_code", None) == 204 and getattr(req, "path", "") == LIVE_STAMP_PATH


class AccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if is_quiet_check(resp, req):
            return
        super().access(resp, req, environ, request_time)
