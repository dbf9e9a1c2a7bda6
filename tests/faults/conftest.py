"""One production-shaped stack for the fault suite, on a Redis and a PostgreSQL of its own
(so it may stop and restart them) and a simulator of its own (so it may pause it)."""

from __future__ import annotations

import pytest

from tests.production import shape
from tests.production.servers import MissingServer, PostgresServer, RedisServer

CLOUD_TIMEOUT = 4.0  # seconds; the faults below go past it
SYNC_PERIOD = 10.0  # a whole sweep round (SWEEP_INTERVAL)
SWEEP_TICK = 2.0
DETECT_PERIOD = 1.0


@pytest.fixture(scope="module")
def servers():
    try:
        redis = RedisServer().start()
        postgres = PostgresServer().start()
    except MissingServer as exc:
        pytest.fail(str(exc), pytrace=False)
    yield redis, postgres
    redis.stop()
    postgres.remove()


@pytest.fixture(scope="module")
def cloud():
    from cloudsim.testing import start_simulator

    simulator = start_simulator("--create-delay", "2", "--delete-delay", "2")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def faulty(servers, cloud, tmp_path_factory):
    redis, postgres = servers
    database = shape.ScratchDatabase(postgres.url, prefix="faults")
    workdir = tmp_path_factory.mktemp("faults")
    stack = shape.ProductionStack(
        venv=shape.production_venv(),
        workdir=workdir,
        database_url=database.url,
        redis_url=redis.url,
        identity_url=cloud.identity_url,
        clouds_yaml=cloud.write_clouds_yaml(workdir / "clouds.yaml", "dashboard-demo"),
        variables={
            "CLOUD_TIMEOUT": str(CLOUD_TIMEOUT),
            "SWEEP_INTERVAL": str(SYNC_PERIOD),
            "SWEEP_TICK": str(SWEEP_TICK),
            "DETECT_INTERVAL": str(DETECT_PERIOD),
            "TRACK_INTERVAL": "1",
            # The checks read the worker's task lines in Celery's own format.
            "LOG_FORMAT": "plain",
        },
    )
    stack.database = database
    stack.redis = redis
    stack.postgres = postgres
    try:
        yield stack.up()
    finally:
        stack.down()
        database.drop()


@pytest.fixture
def person(faulty, cloud):
    from tests.production.client import Visitor

    cloud.clear_faults()
    visitor = Visitor(faulty.url)
    visitor.sign_in("demo", "secret", project_id=cloud.project_id("alpha"))
    return visitor


@pytest.fixture
def volume(cloud) -> str:
    alpha = cloud.project_id("alpha")
    return next(
        v["id"]
        for v in cloud.info()["volumes"]
        if v["project_id"] == alpha and v["status"] == "available"
    )
