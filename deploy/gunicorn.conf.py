"""gunicorn settings for the web container: `gunicorn -c deploy/gunicorn.conf.py dashboard.wsgi`.

With PROMETHEUS_MULTIPROC_DIR exported, each gunicorn worker keeps its metrics in files there:
the directory is emptied when the server starts (old pids would add stale counts) and a worker
that exits is marked dead, so /metrics adds up only what belongs to this server.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = "-"
if os.environ.get("LOG_FORMAT") == "json":
    # Access lines as JSON objects too (the query string stays out: it may carry search text).
    logger_class = "deploy.gunicorn_json.JsonAccessLogger"


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
