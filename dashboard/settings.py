"""The only settings module. Everything a deployment changes comes from the environment.

Every variable is documented in `.env.example` and the README. With no environment at all the
project runs on embedded defaults: SQLite under `var/`, a filesystem Celery broker under `var/`
and the cloud simulator on 127.0.0.1:8776 with the demo cloud.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ

from dashboard.bus_folder import folder_transport_options

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("DASHBOARD_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and env.bool("DASHBOARD_REQUIRE_SECRET_KEY", default=False):
        raise environ.ImproperlyConfigured("SECRET_KEY must be set in production")
    # A per-checkout key so that `make run` works without configuration. Production sets SECRET_KEY.
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        _key_file.write_text(get_random_secret_key())
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "snapshots",
]

MIDDLEWARE = [
    "snapshots.observability.logs.RequestIdMiddleware",
    "snapshots.middleware_proxy.ClientAddressMiddleware",
    "snapshots.middleware_headers.SecurityHeadersMiddleware",
    "snapshots.observability.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "snapshots.views.live.LiveStampMiddleware",  # before sessions: see views/live.py
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "snapshots.middleware_input.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "snapshots.middleware.ScopeMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "snapshots.context_processors.dashboard",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dashboard.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: WAL lets readers go on while one
    # writes, and IMMEDIATE transactions make a writer wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login throttling, locks that need no database row) -------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Mirror writes and audit events move the remembered-reads generation (snapshots/memo.py)
    # while they hold their locks: a Redis that hangs must cost a second, never a stall.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by the web server and the worker on one machine, with no server to run.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Sessions and authentication -----------------------------------------------------------
# The Keystone token lives in the server-side session (database), never in a cookie value.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
# Sent on every response (snapshots/middleware_headers.py): nothing inline, nothing foreign.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "snapshots:list"
LOGOUT_REDIRECT_URL = "login"

KEYSTONE_URL = env.str("KEYSTONE_URL", default="")
# keystone: people sign in with their Keystone credentials; local: Django users and groups.
DASHBOARD_AUTH = env.str("DASHBOARD_AUTH", default="keystone" if KEYSTONE_URL else "local")
if DASHBOARD_AUTH not in {"keystone", "local"}:
    raise environ.ImproperlyConfigured("DASHBOARD_AUTH must be 'keystone' or 'local'")
KEYSTONE_DEFAULT_DOMAIN = env.str("KEYSTONE_DEFAULT_DOMAIN", default="Default")
KEYSTONE_REGION = env.str("KEYSTONE_REGION", default="") or None
KEYSTONE_INTERFACE = env.str("KEYSTONE_INTERFACE", default="public")
KEYSTONE_VERIFY = env.str("KEYSTONE_VERIFY", default="true")  # "false" or a CA bundle path
# Sign-in throttling (snapshots/services/throttle.py): failures per user + client address, and
# per client address whatever the user name, within a window of seconds.
LOGIN_THROTTLE_ATTEMPTS = env.int("LOGIN_THROTTLE_ATTEMPTS", default=5)
LOGIN_THROTTLE_ADDRESS_ATTEMPTS = env.int("LOGIN_THROTTLE_ADDRESS_ATTEMPTS", default=30)
LOGIN_THROTTLE_WINDOW = env.int("LOGIN_THROTTLE_WINDOW", default=300)
# The client address behind reverse proxies: the peers listed here (addresses or networks) are
# trusted to append the real client to X-Forwarded-For. Empty: the peer is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

AUTHENTICATION_BACKENDS = ["snapshots.auth_backends.ThrottledModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- The cloud -----------------------------------------------------------------------------
# The service credential (workers, and every call in local mode) is a clouds.yaml entry, read
# the standard way (OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/, /etc/openstack).
OS_CLOUD = env.str("OS_CLOUD", default="dashboard-demo")
OS_CLIENT_CONFIG_FILE = env.str("OS_CLIENT_CONFIG_FILE", default="")
CLOUD_TIMEOUT = env.float("CLOUD_TIMEOUT", default=15.0)
# Seconds a user's action (create, edit, delete, repairs) waits for Cinder's answer. Past it the
# outcome is "unknown": the page says so at once and a worker finds out what Cinder did.
ACTION_TIMEOUT = env.float("ACTION_TIMEOUT", default=5.0)

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL == "filesystem://":
    # kombu polls the folder; at its default of 1 s a worker takes ~2 messages a second.
    CELERY_BROKER_TRANSPORT_OPTIONS = folder_transport_options(BROKER_DIR, polling_interval=0.1)
    # kombu's filesystem transport with atomic writes (a half-written message kills a worker).
    CELERY_BROKER_TRANSPORT = "dashboard.fsbroker:Transport"
else:
    # Above the hard time limit, so a long sync is not redelivered while it still runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

STUCK_AFTER = timedelta(minutes=env.float("STUCK_AFTER_MINUTES", default=30.0))
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=1000)
# How often the workers follow volumes in a transitional status (made from a snapshot, being
# reverted), read each project's quota usage and Cinder's user messages.
TRACK_INTERVAL = env.float("TRACK_INTERVAL", default=3.0)
QUOTA_INTERVAL = env.float("QUOTA_INTERVAL", default=60.0)
# Past this many readable projects, the list filters take a project ID instead of a menu.
PROJECT_MENU_MAX = env.int("PROJECT_MENU_MAX", default=300)
# Projects whose quota one tick reads (the most out of date first): the cost stays flat.
QUOTA_PROJECTS_PER_TICK = env.int("QUOTA_PROJECTS_PER_TICK", default=10)
# A quota read is kept this long unless the mirror sees the project's snapshots change (usage
# moves with them); limits an admin changes in Cinder show within it.
QUOTA_MAX_AGE = env.float("QUOTA_MAX_AGE", default=600.0)
MESSAGES_INTERVAL = env.float("MESSAGES_INTERVAL", default=30.0)
# While something is in error, the messages are read again when a snapshot newly failed, and
# otherwise at least this often.
MESSAGES_MAX_AGE = env.float("MESSAGES_MAX_AGE", default=300.0)


# --- Audit chain keys (snapshots/services/audit.py) ------------------------------------------
# Events are signed with HMAC-SHA256 by keys that live here, never in the database:
# AUDIT_HMAC_KEYS="2026a:<secret>,2027a:<secret>" (id:secret pairs; ids up to 32 characters,
# secrets without commas). New events use AUDIT_HMAC_KEY_ID (default: the last listed); keep
# retired keys listed so `verify_audit` can still check the events they signed. Unset: one key
# derived from SECRET_KEY (id "secret-key"), which then must not change.
def _audit_keys(raw: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id.strip() or len(key_id.strip()) > 32 or not secret:
            raise environ.ImproperlyConfigured("AUDIT_HMAC_KEYS must be id:secret pairs")
        keys[key_id.strip()] = secret
    return keys


AUDIT_HMAC_KEYS = _audit_keys(env.str("AUDIT_HMAC_KEYS", default="")) or {
    "secret-key": hashlib.sha256(f"audit-chain:{SECRET_KEY}".encode()).hexdigest()
}
AUDIT_HMAC_KEY_ID = env.str("AUDIT_HMAC_KEY_ID", default="") or list(AUDIT_HMAC_KEYS)[-1]
if AUDIT_HMAC_KEY_ID not in AUDIT_HMAC_KEYS:
    raise environ.ImproperlyConfigured("AUDIT_HMAC_KEY_ID must name a key in AUDIT_HMAC_KEYS")
# An open tab asks "did my rows change?" every LIVE_CHECK_SECONDS (views/live.py) and fetches
# the rows only when they did; LIVE_POLL_SECONDS is its slow fallback poll. Each web process
# reads the rows all its tabs watch with one query at most every LIVE_STAMP_REFRESH_SECONDS
# (0: one query per check).
LIVE_CHECK_SECONDS = env.float("LIVE_CHECK_SECONDS", default=0.5)
LIVE_STAMP_REFRESH_SECONDS = env.float("LIVE_STAMP_REFRESH_SECONDS", default=0.2)
LIVE_POLL_SECONDS = env.int("LIVE_POLL_SECONDS", default=30)
# The list's row count and the overview's aggregates are remembered in the shared cache until
# the mirror changes (snapshots/memo.py), and never longer than this; 0 computes them every time.
MEMO_SECONDS = env.float("MEMO_SECONDS", default=30.0)
LIVE_STAMP_PATH = "/snapshots/live/stamp"
# Where an async server (dashboard/asgi.py: compose's `live` service) pushes changes to open tabs
# instead of their checks (views/live_stream.py); a WSGI server answers it 204 and tabs check.
# A stream ends after LIVE_STREAM_SECONDS (the tab reconnects, its ticket checked again); past
# LIVE_STREAMS_MAX open streams a process answers 503 and the tab checks instead.
LIVE_STREAM_PATH = "/snapshots/live-stream"
LIVE_STREAM_SECONDS = env.float("LIVE_STREAM_SECONDS", default=300.0)
LIVE_STREAMS_MAX = env.int("LIVE_STREAMS_MAX", default=5000)
# `manage.py prune_history` removes status changes and audit events older than this (days).
HISTORY_RETENTION_DAYS = env.int("HISTORY_RETENTION_DAYS", default=365)

# --- Change detection and the sweep (services/detect.py, services/sweep.py) -----------------
# detect: a few cloud-wide listings every DETECT_INTERVAL seconds (about one call a tick at idle).
DETECT_INTERVAL = env.float("DETECT_INTERVAL", default=2.5)
# While Cinder's notifications flow, detection is only their safety net: one tick this often.
DETECT_EVENTS_INTERVAL = env.float("DETECT_EVENTS_INTERVAL", default=30.0)
# A part of a tick (one listing) is leased this long, renewed after each call: a killed worker's
# part is free again after this.
DETECT_LEASE = env.float("DETECT_LEASE", default=2 * DETECT_INTERVAL)
# sweep: the whole inventory, one round every SWEEP_INTERVAL seconds, read a few pages every
# SWEEP_TICK seconds so that it never lands as one burst.
SWEEP_INTERVAL = env.float("SWEEP_INTERVAL", default=3600.0)
# While Cinder's notifications flow (they carry the changes, detection's listing checks them
# every DETECT_EVENTS_INTERVAL), the sweep is the net under that net: one round this often.
SWEEP_EVENTS_INTERVAL = env.float("SWEEP_EVENTS_INTERVAL", default=21600.0)
SWEEP_TICK = env.float("SWEEP_TICK", default=20.0)
SWEEP_LEASE = env.float("SWEEP_LEASE", default=SWEEP_TICK)
# A round is cut into parts of about this many snapshots, each with its own lease and cursor,
# so several workers share it.
SWEEP_PART_ROWS = env.int("SWEEP_PART_ROWS", default=50000)

# Cinder's notifications (services/listen.py, `manage.py listen_notifications`): the bus Cinder
# publishes to with `[oslo_messaging_notifications] driver = messagingv2` (amqp://, redis://, or
# filesystem:///folder for the simulator of `make run`). Empty: polling alone.
CINDER_NOTIFICATIONS_URL = env.str("CINDER_NOTIFICATIONS_URL", default="")
# Cinder 29 publishes on oslo.messaging's default control_exchange, `openstack` (a deployment
# that sets `control_exchange` in cinder.conf names that one here).
CINDER_NOTIFICATIONS_EXCHANGE = env.str("CINDER_NOTIFICATIONS_EXCHANGE", default="openstack")
CINDER_NOTIFICATIONS_TOPIC = env.str("CINDER_NOTIFICATIONS_TOPIC", default="notifications")
# The dashboard's own queue on that exchange: other consumers (Ceilometer) keep theirs.
CINDER_NOTIFICATIONS_QUEUE = env.str(
    "CINDER_NOTIFICATIONS_QUEUE", default="snapshot-dashboard.notifications.info"
)


def _tick(task: str, every: float, expires: float | None = None) -> dict:
    """A beat entry: snapshots.tasks.<task> every `every` seconds, dropped when it could not
    start within `expires` (one period unless said)."""
    return {
        "task": f"snapshots.tasks.{task}",
        "schedule": every,
        "options": {"expires": every if expires is None else expires},
    }


# A tick that waited behind a busy worker longer than its interval is dropped, not run late:
# the next tick does the same work with fresher data. Each tick also claims its period in the
# database, so a second beat's copy of it does nothing.
CELERY_BEAT_SCHEDULE = {
    "detect-snapshots": _tick("detect", DETECT_INTERVAL),
    "sweep-snapshots": _tick("sweep", SWEEP_TICK),
    "track-volumes": _tick("track_volumes", TRACK_INTERVAL),
    "refresh-quotas": _tick("refresh_quotas", QUOTA_INTERVAL),
    "refresh-messages": _tick("refresh_messages", MESSAGES_INTERVAL),
    "forget-operations": _tick("forget_operations", 3600.0),
    # Actions whose outcome is still unknown, in case their own reconcile task was lost.
    "reconcile-unsettled": _tick("reconcile_unsettled", 30.0),
    "log-audit-head": _tick(
        "log_audit_head", env.float("AUDIT_HEAD_LOG_INTERVAL", default=60.0), expires=60.0
    ),
    "clear-sessions": _tick(
        "clear_sessions", env.float("CLEAR_SESSIONS_INTERVAL", default=3600.0), expires=3600.0
    ),
}

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Tables ---------------------------------------------------------------------------------
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}
PAGE_SIZES = (25, 50, 100)
# XLSX is built whole before its first byte leaves (CSV and JSON stream): at most this many rows.
EXPORT_XLSX_MAX_ROWS = env.int("EXPORT_XLSX_MAX_ROWS", default=2_000)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Logging: never a token or password (see snapshots.logging_filters) ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "snapshots.logging_filters.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "keystoneauth": {"level": "WARNING"},
        "openstack": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# A standalone Cinder with auth_strategy=noauth (no Keystone): its endpoint, and the
# `user:project` token noauth expects. When set, it replaces OS_CLOUD for the service account.
CINDER_NOAUTH_ENDPOINT = env.str("CINDER_NOAUTH_ENDPOINT", default="")
CINDER_NOAUTH_TOKEN = env.str("CINDER_NOAUTH_TOKEN", default="dashboard:dashboard")
# Local sign-in: the project members and readers work in (default: the service account's).
LOCAL_PROJECT_ID = env.str("LOCAL_PROJECT_ID", default="")

# --- Running as a service: health, heartbeats, metrics, alerts, logs ------------------------
# Workers and beat tick a heartbeat every HEARTBEAT_INTERVAL seconds; older than two periods is
# stale (readyz, overview). LISTENER_HEARTBEAT_INTERVAL > 0 says a notification listener runs.
HEARTBEAT_INTERVAL = env.float("HEARTBEAT_INTERVAL", default=30.0)
LISTENER_HEARTBEAT_INTERVAL = env.float("LISTENER_HEARTBEAT_INTERVAL", default=0.0)
HEALTH_CHECKS = [
    "snapshots.observability.health.check_database",
    "snapshots.observability.health.check_broker",
    "snapshots.observability.health.check_cloud",
    "snapshots.observability.health.check_worker",
    "snapshots.observability.health.check_beat",
    "snapshots.observability.health.check_listener",
]
# /readyz answers 503 when one of these fails; the other checks are reported only.
READYZ_REQUIRED = env.list("READYZ_REQUIRED", default=["database", "broker"])
READYZ_BROKER_TIMEOUT = env.float("READYZ_BROKER_TIMEOUT", default=2.0)
CELERY_INCLUDE = ["snapshots.observability.tasks"]

# /metrics: a bearer token, or client addresses in these networks (default loopback only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
# false: no project label (one series per status), for clouds with very many projects.
METRICS_PER_PROJECT = env.bool("METRICS_PER_PROJECT", default=True)
# A directory per host (container) where gunicorn's and Celery's processes keep their counters
# (prometheus_client's multiprocess mode). prometheus_client reads it from the process
# environment when imported, so it must be exported, not put in .env; deploy/gunicorn.conf.py
# empties it when the server starts and marks dead workers.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# A Celery worker serves its own task and cloud-call metrics on this port (0: off). It has no
# token: bind it to an address only Prometheus reaches.
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_WORKER_ADDR = env.str("METRICS_WORKER_ADDR", default="0.0.0.0")  # noqa: S104
# Alerts: rules evaluated every ALERT_INTERVAL seconds; e-mail from ALERT_EMAIL_FROM through
# Django's mail backend (EMAIL_BACKEND, EMAIL_HOST, ...); failed deliveries retried after
# ALERT_RETRY_BASE * 2^(attempt-1) seconds, at most ALERT_MAX_ATTEMPTS times.
ALERT_INTERVAL = env.float("ALERT_INTERVAL", default=60.0)
ALERT_EMAIL_FROM = env.str("ALERT_EMAIL_FROM", default="snapshot-dashboard@localhost")
ALERT_RETRY_BASE = env.float("ALERT_RETRY_BASE", default=30.0)
ALERT_MAX_ATTEMPTS = env.int("ALERT_MAX_ATTEMPTS", default=5)
ALERT_WEBHOOK_TIMEOUT = env.float("ALERT_WEBHOOK_TIMEOUT", default=10.0)
ALERT_SEND_LEASE = env.float("ALERT_SEND_LEASE", default=120.0)
# The audit-chain rule walks the whole chain: at most once per this many seconds.
ALERT_AUDIT_CHAIN_INTERVAL = env.int("ALERT_AUDIT_CHAIN_INTERVAL", default=900)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

for _name, _task, _every in (
    ("heartbeat", "snapshots.observability.tasks.heartbeat", HEARTBEAT_INTERVAL),
    ("evaluate-alerts", "snapshots.observability.tasks.evaluate_alerts", ALERT_INTERVAL),
):
    CELERY_BEAT_SCHEDULE[_name] = {
        "task": _task,
        "schedule": _every,
        "options": {"expires": _every},
    }

# LOG_FORMAT=json: one JSON object per line with request id, user, project and task id.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise environ.ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'")
LOGGING["filters"]["context"] = {"()": "snapshots.observability.logs.ContextFilter"}
LOGGING["formatters"]["json"] = {"()": "snapshots.observability.logs.JsonFormatter"}
LOGGING["handlers"]["console"]["filters"] = ["redact", "context"]
if LOG_FORMAT == "json":
    LOGGING["handlers"]["console"]["formatter"] = "json"
    # Celery's worker would otherwise replace the root handler with its own plain format.
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False
