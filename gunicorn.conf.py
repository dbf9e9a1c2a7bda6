"""gunicorn's settings beyond the command line (read from the working directory, /app in the
image, so compose's `gunicorn dashboard.wsgi ...` picks them up). The command line wins.

keepalive: idle keep-alive connections stay open longer than a person's think time and than
the TLS proxy's own idle timeout, so the server is never the side that closes a connection a
client is about to reuse (under load at the default 2 s, a few requests in a thousand met
"connection reset by peer"). With threads (gthread), an idle connection holds no thread.
max_requests: a worker is replaced (gracefully) after this many requests, so memory that one
heavy request left behind is given back.
"""

keepalive = 75
max_requests = 5000
max_requests_jitter = 500
graceful_timeout = 30
