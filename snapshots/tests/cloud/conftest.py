"""Gateways of the simulator's demo users in project alpha: a member, an admin, a reader."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo(user_gateway):
    return user_gateway("demo", "alpha")


@pytest.fixture
def admin(user_gateway):
    return user_gateway("admin", "alpha")


@pytest.fixture
def reader(user_gateway):
    return user_gateway("auditor", "alpha")
