"""Gateways of the simulator's demo users in project alpha: a member, an admin, a reader."""

from __future__ import annotations

from snapshots.tests.cloud.users import alpha_users

demo, admin, reader = alpha_users("user_gateway")
