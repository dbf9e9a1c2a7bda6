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
    from cloudsim.testing import start_simulator

    simulator = start_simulator("--create-delay", "3", "--delete-delay", "2")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def stack(servers, production_venv, cloud, tmp_path_factory):
    import redis

    database_url, redis_url = servers
    database = shape.ScratchDatabase(database_url)
    broker = shape.redis_db(redis_url, 7)
    redis.Redis.from_url(broker).flushdb()
    workdir = tmp_path_factory.mktemp("production")
    clouds = cloud.write_clouds_yaml(workdir / "clouds.yaml", "dashboard-demo")
    running = shape.ProductionStack(
        venv=production_venv,
        workdir=workdir,
        database_url=database.url,
        redis_url=broker,
        identity_url=cloud.identity_url,
        clouds_yaml=clouds,
    )
    running.database = database
    try:
        yield running.up()
    finally:
        running.down()
        database.drop()
