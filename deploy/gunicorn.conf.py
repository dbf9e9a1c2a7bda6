"""gunicorn settings for the web container: `gunicorn -c deploy/gunicorn.conf.py dashboard.wsgi`.

keepalive: idle keep-alive connections stay open longer than a person's think time and than
the TLS proxy's own idle timeout, so the server is never the side that closes a connection a
client is about to reuse (at gunicorn's default of 2 s, a few requests in a thousand met
"connection reset by peer" under load). With threads (gthread), an idle connection holds no
thread. max_requests: a worker is replaced (gracefully) after this many requests, so memory that
one heavy request left behind is given back (open tabs' live checks are not counted).

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
keepalive = 75
max_requests = 5000
max_requests_jitter = 500
graceful_timeout = 30
# Open tabs' "nothing changed" answers are left out of the access log (deploy/gunicorn_access.py).
logger_class = "deploy.gunicorn_access.AccessLogger"
if os.environ.get("LOG_FORMAT") == "json":
    # Access lines as JSON objects too (the query string stays out: it may carry search text).
    logger_class = "deploy.gunicorn_json.JsonAccessLogger"


def pre_request(worker, req):
    # An open tab's live check (views/live.py) leaves no memory behind, so it does not bring the
    # worker's recycling closer: counted, two hundred tabs would replace every worker each
    # 40 s or so, and each new worker costs about a second of CPU to start.
    from deploy.gunicorn_access import LIVE_STAMP_PATH

    if req.path == LIVE_STAMP_PATH:
        worker.nr -= 1  # the worker adds this request to its count right after this hook


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
