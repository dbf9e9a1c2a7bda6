"""The embedded broker (dashboard/fsbroker.py): a message is never seen half-written.

kombu's own filesystem transport writes into the final file name, and a reader polling at that
moment gets an empty payload (the worker then dies). A producer process writes while this one
reads as fast as it can: every message must arrive whole.
"""

from __future__ import annotations

import contextlib
import multiprocessing

from kombu import Connection
from kombu.transport import filesystem

MESSAGES = 1500


def channel(folder: str):
    options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "control_folder": folder,
        "store_processed": False,
    }
    connection = Connection(
        "filesystem://", transport="dashboard.fsbroker:Transport", transport_options=options
    )
    return connection.default_channel


def produce(folder: str) -> None:
    out = channel(folder)
    for n in range(MESSAGES):
        out._put("q", {"n": n, "padding": "x" * 2000})


def test_messages_are_never_read_half_written(tmp_path):
    folder = str(tmp_path)
    reader = channel(folder)
    producer = multiprocessing.get_context("spawn").Process(target=produce, args=(folder,))
    producer.start()
    received = []
    while len(received) < MESSAGES and (producer.is_alive() or any(tmp_path.glob("*.msg"))):
        with contextlib.suppress(filesystem.Empty):
            received.append(reader._get("q")["n"])  # a half-written one raises JSONDecodeError
    producer.join(30)
    assert sorted(received) == list(range(MESSAGES))  # all, once (order: to the millisecond)
    assert not list(tmp_path.iterdir()), "no partial files left behind"


def test_the_settings_use_it_for_the_embedded_broker(settings):
    if settings.CELERY_BROKER_URL == "filesystem://":
        assert settings.CELERY_BROKER_TRANSPORT == "dashboard.fsbroker:Transport"
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] <= 0.2
