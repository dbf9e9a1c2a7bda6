"""The demo users' gateways in project alpha as fixtures, over any gateway factory fixture."""

from __future__ import annotations

import pytest


def alpha_users(factory: str):
    """Fixtures for a member ("demo"), an admin and a reader ("auditor") in alpha, each the
    gateway that the fixture named `factory` makes with `factory(user, project)`."""

    def gateway_of(user: str):
        @pytest.fixture
        def gateway(request):
            return request.getfixturevalue(factory)(user, "alpha")

        return gateway

    return gateway_of("demo"), gateway_of("admin"), gateway_of("auditor")
