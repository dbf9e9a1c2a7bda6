"""The Celery application. Tasks live in snapshots/tasks.py; their logic in snapshots/services/."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")


def _closed_redis_transport_is_a_connection_error() -> None:
    """Keep the worker alive across a Redis restart (kombu 5.7.0).

    When the broker goes away while the worker waits in BRPOP, celery's consumer closes the
    connection twice: `collect()` fails to close the channel (the read raises), then drops the
    transport's reference to its connection (`transport.client = None`); the second `close()`
    then closes the channel, whose QoS restores the unacknowledged messages through a new Redis
    pool built from `transport.client.hostname`, and the AttributeError that raises is no
    connection error, so it escapes `ignore_errors` and kills the worker. A late ack of a task
    that was running meets the same dead channel. Raising a connection error instead lets kombu
    and celery treat it as what it is: the message stays in Redis's unacked set (redelivered
    after the visibility timeout) and the consumer reconnects.
    """
    try:
        from kombu.transport import redis as transport
    except ImportError:  # the embedded broker has no Redis client
        return
    if transport.redis is None or getattr(transport.Channel, "_dashboard_guarded", False):
        return
    connparams = transport.Channel._connparams

    def guarded(self, asynchronous=False):
        if self.connection.client is None:
            raise transport.redis.exceptions.ConnectionError(
                "the broker connection of this channel is closed"
            )
        return connparams(self, asynchronous=asynchronous)

    transport.Channel._connparams = guarded
    transport.Channel._dashboard_guarded = True


_closed_redis_transport_is_a_connection_error()

app = Celery("dashboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task durations and failures for /metrics, the task id in log lines (no Django imports).
from snapshots.observability import logs, metrics  # noqa: E402

metrics.connect_celery_signals()
logs.connect_celery_signals()
