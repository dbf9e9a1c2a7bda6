"""gunicorn's access log as one JSON object per line (LOG_FORMAT=json), with the request id the
dashboard returned, so access lines join the application's lines."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime

from deploy.gunicorn_access import AccessLogger, is_quiet_check


class JsonAccessLogger(AccessLogger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled or is_quiet_check(resp, req):
            return
        try:
            atoms = self.atoms(resp, req, environ, request_time)
            entry = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "level": "INFO",
                "logger": "gunicorn.access",
                "message": f"{atoms['m']} {atoms['U']} {atoms['s']}",
                "method": atoms["m"],
                "path": atoms["U"],
                "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
                "bytes": atoms["B"],
                "seconds": float(atoms["L"]),
                "remote_addr": atoms["h"],
                "request_id": atoms.get("{x-request-id}o", ""),
            }
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:
            self.error(traceback.format_exc())
