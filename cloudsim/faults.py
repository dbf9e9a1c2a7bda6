"""Injected faults: latency, errors, failed transitions, statuses that stop moving."""

from __future__ import annotations

import json
import random
from typing import Any

from .errors import bad_request

FAULT_DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "error_status": 500,
    "create_error_rate": 0.0,
    "delete_error_rate": 0.0,
    "stuck": [],
    "keystone_down": False,
    "cinder_down": False,
    # Cinder carries out a change (POST/PUT/DELETE), then its answer takes this long: the
    # "acted, but the caller timed out" case.
    "answer_delay_ms": 0,
}

# A second Cinder API on the same state with `auth_strategy = noauth`, like a real cinder-api
# run without Keystone: the token is `user:project`, every caller is admin, and a request


class Faults:
    """The fault settings of one simulator."""

    def reset_faults(self) -> None:
        self.faults = json.loads(json.dumps(FAULT_DEFAULTS))
        self.faults["latency_ms"] = self.config.latency_ms
        self.store.stuck = set()
        self.rng = random.Random("cloudsim-faults")

    def set_faults(self, body: dict) -> None:
        if not isinstance(body, dict):
            raise bad_request("faults must be a JSON object")
        unknown = sorted(set(body) - set(FAULT_DEFAULTS))
        if unknown:
            raise bad_request(f"unknown fault(s): {', '.join(unknown)}")
        new = dict(self.faults)
        for key, value in body.items():
            if key == "stuck":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise bad_request("stuck must be a list of statuses")
                new[key] = sorted(set(value))
            elif key in ("keystone_down", "cinder_down"):
                new[key] = bool(value)
            elif key in ("latency_ms", "error_status", "answer_delay_ms"):
                new[key] = int(value)
            else:
                rate = float(value)
                if not 0 <= rate <= 1:
                    raise bad_request(f"{key} must be between 0 and 1")
                new[key] = rate
        if new["error_status"] not in (500, 502, 503, 504):
            raise bad_request("error_status must be 500, 502, 503 or 504")
        self.faults = new
        self.store.stuck = set(new["stuck"])

    def chance(self, key: str) -> bool:
        rate = float(self.faults.get(key) or 0.0)
        return rate > 0 and self.rng.random() < rate
