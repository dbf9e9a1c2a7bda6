"""The production shape, started once per module (see shape.py)."""

from __future__ import annotations

import pytest

from tests.production import shape


@pytest.fixture(scope="module")
def servers() -> tuple[str, str]:
    try:
        return shape.require_servers()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def production_venv():
    return shape.production_venv()


@pytest.fixture(scope="module")
def cloud():
    with shape.simulator(create_delay=3, delete_delay=2) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def stack(servers, production_venv, cloud, tmp_path_factory):
    import redis

    database_url, redis_url = servers
    database = shape.ScratchDatabase(database_url)
    broker = shape.redis_db(redis_url, 7)
    redis.Redis.from_url(broker).flushdb()
    with shape.running_stack(
        venv=production_venv,
        workdir=tmp_path_factory.mktemp("production"),
        database=database,
        redis_url=broker,
        cloud=cloud,
    ) as running:
        yield running
