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
    with shape.simulator(create_delay=2, delete_delay=2) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def faulty(servers, cloud, tmp_path_factory):
    redis, postgres = servers
    with shape.running_stack(
        venv=shape.production_venv(),
        workdir=tmp_path_factory.mktemp("faults"),
        database=shape.ScratchDatabase(postgres.url, prefix="faults"),
        redis_url=redis.url,
        cloud=cloud,
        variables={
            "CLOUD_TIMEOUT": str(CLOUD_TIMEOUT),
            "SWEEP_INTERVAL": str(SYNC_PERIOD),
            "SWEEP_TICK": str(SWEEP_TICK),
            "DETECT_INTERVAL": str(DETECT_PERIOD),
            "TRACK_INTERVAL": "1",
            # The checks read the worker's task lines in Celery's own format.
            "LOG_FORMAT": "plain",
        },
        redis=redis,
        postgres=postgres,
    ) as stack:
        yield stack


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
