"""Settings for the Hot API service, read once from the environment.

Every knob is an environment variable (listed in README.md). The embedded defaults run on one
machine with no other services: SQLite under ``HOT_DATA_DIR``, local file storage, the kombu
filesystem broker and a local-memory cache. ``DATABASE_URL``, ``CELERY_BROKER_URL``,
``REDIS_URL`` and ``HOT_S3_*`` switch each piece to PostgreSQL, Redis and S3.
"""

import logging
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger("hotapi.settings")

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _local_secret(path: Path, make) -> str:
    """Read a generated local secret, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(env_str("HOT_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY") or _local_secret(
    DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50)
)

# Master key for context variables: 64 hex characters (32 bytes). In local use (DEBUG on) one
# is generated into the data dir; with DEBUG off the service refuses to start without one
# (see hotapi.checks). Previous keys stay readable during a rotation via HOT_ENCRYPTION_OLD_KEYS.
HOT_ENCRYPTION_KEY = env_str("HOT_ENCRYPTION_KEY") or None
HOT_ENCRYPTION_KEY_GENERATED = False
if HOT_ENCRYPTION_KEY is None and DEBUG:
    HOT_ENCRYPTION_KEY = _local_secret(DATA_DIR / "encryption_key", lambda: secrets.token_hex(32))
    HOT_ENCRYPTION_KEY_GENERATED = True
HOT_ENCRYPTION_OLD_KEYS = env_list("HOT_ENCRYPTION_OLD_KEYS", [])

# API-key digests are HMAC-SHA256(pepper, secret): a stolen table alone cannot be brute-forced
# offline, and verification stays a microsecond (not a password hasher).
HOT_API_KEY_PEPPER = env_str("HOT_API_KEY_PEPPER") or SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

HOT_HOST = env_str("HOT_HOST", "127.0.0.1")
HOT_PORT = env_int("HOT_PORT", 4681)
HOT_GIT_SHA = env_str("HOT_GIT_SHA")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "hotapi",
    "environments",
    "projects",
    "secrets_app",
    "builds",
    "events",
    "runs",
]

MIDDLEWARE = [
    "hotapi.api.middleware.RequestIdMiddleware",
    "hotapi.api.middleware.TrailingSlashMiddleware",
    "hotapi.api.throttling.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hotapi.urls"
WSGI_APPLICATION = "hotapi.wsgi.application"
ASGI_APPLICATION = "hotapi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'hot.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes write the same file: WAL lets readers proceed during a write,
    # IMMEDIATE transactions take the write lock up front instead of failing on upgrade.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests run against a file, not :memory:, so live servers and workers in other processes
    # see the same database; one file per test run, so concurrent runs never collide.
    _db["TEST"] = {"NAME": str(DATA_DIR / f"test-hot-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    if env_bool("HOT_DB_POOL", True):
        _db["CONN_MAX_AGE"] = 0  # Django's pool requires it
        _db["OPTIONS"] = {
            "pool": {
                "min_size": env_int("HOT_DB_POOL_MIN", 1),
                "max_size": env_int("HOT_DB_POOL_MAX", 10),
                "timeout": 10,
            }
        }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Redis ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL") or None
# Request-path Redis calls (rate limits, stream wake-ups) give up after this long and the
# request goes on without Redis (see hotapi/redis_client.py).
HOT_REDIS_SOCKET_TIMEOUT = env_float("HOT_REDIS_SOCKET_TIMEOUT", 0.25)
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Storage --------------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("HOT_STORAGE_DIR") or DATA_DIR / "storage").resolve()
HOT_S3_BUCKET = env_str("HOT_S3_BUCKET") or None
if HOT_S3_BUCKET:
    _build_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": HOT_S3_BUCKET,
            "endpoint_url": env_str("HOT_S3_ENDPOINT_URL") or None,
            "access_key": env_str("HOT_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("HOT_S3_SECRET_ACCESS_KEY") or None,
            "region_name": env_str("HOT_S3_REGION", "us-east-1"),
            "addressing_style": env_str("HOT_S3_ADDRESSING_STYLE", "path"),
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
else:
    _build_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "builds")},
    }
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "builds": _build_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Celery ---------------------------------------------------------------------------------
# Periodic work runs in the maintenance loop (`manage.py runmaintenance`), not in Celery beat:
# the scheduler tick (also starts due retries), the sweep for lost messages, the lease reaper.
HOT_SCHEDULER_TICK_SECONDS = env_float("HOT_SCHEDULER_TICK_SECONDS", 1)
HOT_SWEEP_INTERVAL_SECONDS = env_float("HOT_SWEEP_INTERVAL_SECONDS", 3)
HOT_REAPER_INTERVAL_SECONDS = env_float("HOT_REAPER_INTERVAL_SECONDS", 5)
HOT_WORKER_CONCURRENCY = env_int("HOT_WORKER_CONCURRENCY", 2)  # runhot's worker
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = DATA_DIR / "broker" / "queue"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(DATA_DIR / "broker" / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # An unreachable broker must not hold a request: publishing fails fast, the event is
    # committed anyway and the sweep dispatches it later.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Processes that should share work must name the same queue (tests use a private one).
CELERY_TASK_DEFAULT_QUEUE = env_str("HOT_CELERY_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Django's LOGGING (with request ids) applies

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["hotapi.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["hotapi.api.permissions.HasEnvironmentScope"],
    "DEFAULT_RENDERER_CLASSES": ["hotapi.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "hotapi.api.pagination.HotPagination",
    "DEFAULT_THROTTLE_CLASSES": ["hotapi.api.throttling.EnvironmentRateThrottle"],
    "EXCEPTION_HANDLER": "hotapi.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hot API",
    "DESCRIPTION": (
        "Self-hostable implementation of the Hot platform's REST API. Every response is an "
        "envelope: `{data, meta}`, lists add `pagination`, errors are "
        "`{error: {code, message, request_id}}`."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["hotapi.api.schema.only_v1_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hotapi.api.schema.envelope_postprocessing_hook",
    ],
    "ENUM_NAME_OVERRIDES": {},
}

# --- Builds and runtime ---------------------------------------------------------------------
HOT_BUILD_MAX_BYTES = env_int("HOT_BUILD_MAX_BYTES", 100 * 1024 * 1024)
# Uploads stream to temporary files here (on disk: /tmp may be memory-backed).
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
HOT_RUNTIME = env_str("HOT_RUNTIME", "hotapi.runtime.HotlangRuntime")
# Limits on one run; exceeding any ends the run as failed with a clear message.
HOT_RUN_MAX_STEPS = env_int("HOT_RUN_MAX_STEPS", 10_000_000)
HOT_RUN_MAX_SECONDS = env_float("HOT_RUN_MAX_SECONDS", 60)
HOT_RUN_MAX_DEPTH = env_int("HOT_RUN_MAX_DEPTH", 2_000)
HOT_RUN_MAX_VALUE_BYTES = env_int("HOT_RUN_MAX_VALUE_BYTES", 10 * 1024 * 1024)
# A running run's worker renews its lease; the reaper fails runs whose lease expired.
HOT_RUN_LEASE_SECONDS = env_int("HOT_RUN_LEASE_SECONDS", 30)
# A worker keeps trying to record a finished run's outcome this long while the database is
# unreachable (renewing the lease meanwhile) before giving the run up to the reaper.
HOT_RUN_RECORD_RETRY_SECONDS = env_float("HOT_RUN_RECORD_RETRY_SECONDS", 300)
# A queued run's message is taken for lost (and the run re-dispatched) when it is older than
# this and the work queue is empty.
HOT_RUN_REDISPATCH_SECONDS = env_float("HOT_RUN_REDISPATCH_SECONDS", 60)
# Limits on Hot's `meta {retry: ...}` (as Hot names them).
HOT_RETRY_MAX_ATTEMPTS = env_int("HOT_RETRY_MAX_ATTEMPTS", 10)
HOT_RETRY_MAX_DELAY_MS = env_int("HOT_RETRY_MAX_DELAY_MS", 3_600_000)
HOT_RETRY_DEFAULT_DELAY_MS = env_int("HOT_RETRY_DEFAULT_DELAY_MS", 1_000)
# Idempotency-Key: how long a key's first answer is replayed.
HOT_IDEMPOTENCY_KEY_TTL_SECONDS = env_int("HOT_IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600)
# How often each web process's stream hub polls the stream log without Redis wake-ups.
HOT_STREAM_POLL_SECONDS = env_float("HOT_STREAM_POLL_SECONDS", 0.1)
HOT_STREAM_RETENTION_DAYS = env_float("HOT_STREAM_RETENTION_DAYS", 7)
HOT_SSE_HEARTBEAT_SECONDS = env_float("HOT_SSE_HEARTBEAT_SECONDS", 15)
HOT_SSE_STREAM_SECONDS = env_float("HOT_SSE_STREAM_SECONDS", 300)

# Largest JSON body accepted (context values are bounded separately); larger → 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("HOT_MAX_JSON_BODY_BYTES", 1024 * 1024)
HOT_CONTEXT_VALUE_MAX_BYTES = env_int("HOT_CONTEXT_VALUE_MAX_BYTES", 64 * 1024)

# --- i18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hotapi.api.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("HOT_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # One line per periodic tick would drown everything else.
        "celery.app.trace": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}
