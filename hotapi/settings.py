"""Settings for the Hot API service, read once from the environment.

Every knob is an environment variable (listed in README.md). The embedded defaults run on one
machine with no other services: SQLite under ``HOT_DATA_DIR``, local file storage, the kombu
filesystem broker and a local-memory cache. ``DATABASE_URL``, ``CELERY_BROKER_URL``,
``REDIS_URL`` and ``HOT_S3_*`` switch each piece to PostgreSQL, Redis and S3.
"""

import logging
import os
import secrets
from datetime import timedelta
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

# SECRET_KEY and HOT_API_KEY_PEPPER must be the same on every web host, so with DEBUG off the
# servers refuse to start without them (hotapi.checks); tooling still runs on a generated key.
SECRET_KEY_GENERATED = not env_str("SECRET_KEY")
SECRET_KEY = env_str("SECRET_KEY") or _local_secret(
    DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50)
)
HOT_SECRET_KEY_GENERATED = not env_str("SECRET_KEY")  # per host: `doctor` warns off DEBUG

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
HOT_API_KEY_PEPPER_GENERATED = not env_str("HOT_API_KEY_PEPPER")
HOT_API_KEY_PEPPER = env_str("HOT_API_KEY_PEPPER") or SECRET_KEY
# Sessions: short-lived tokens minted by API keys (POST /v1/sessions).
HOT_SESSION_DEFAULT_SECONDS = env_int("HOT_SESSION_DEFAULT_SECONDS", 3600)
HOT_SESSION_MAX_SECONDS = env_int("HOT_SESSION_MAX_SECONDS", 86400)
HOT_SESSIONS_PER_API_KEY = env_int("HOT_SESSIONS_PER_API_KEY", 1000)
# With Redis, each web process keeps verified credentials this long (0: off); every revocation
# empties every process's cache before it returns (environments/credential_cache, D84).
HOT_CREDENTIAL_CACHE_SECONDS = env_int("HOT_CREDENTIAL_CACHE_SECONDS", 60)
HOT_SESSION_RETENTION_DAYS = env_float("HOT_SESSION_RETENTION_DAYS", 7)
# Custom domains: where their validation records are looked up, and the host their traffic
# record should point at (shown as the `traffic` DNS record when set).
HOT_DNS_NAMESERVERS = env_list("HOT_DNS_NAMESERVERS", [])
HOT_DNS_TIMEOUT_SECONDS = env_float("HOT_DNS_TIMEOUT_SECONDS", 5)
HOT_DOMAIN_TARGET = env_str("HOT_DOMAIN_TARGET")
HOT_DOMAINS_PER_ENVIRONMENT = env_int("HOT_DOMAINS_PER_ENVIRONMENT", 100)
# Browsers on these origins may call the API (a page using a session token, say): CORS on
# /v1 and /api/v1 only. Tokens travel in the Authorization header, never in cookies.
CORS_ALLOWED_ORIGINS = env_list("HOT_CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/(api/)?v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["authorization", "content-type", "last-event-id", "x-request-id"]
CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after", "x-build-exists"]
CORS_PREFLIGHT_MAX_AGE = 3600

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

HOT_HOST = env_str("HOT_HOST", "127.0.0.1")
HOT_PORT = env_int("HOT_PORT", 4681)
HOT_GIT_SHA = env_str("HOT_GIT_SHA")

INSTALLED_APPS = [
    "operations.sites.HotAdminConfig",  # Django's admin, with the overview dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "drf_spectacular_sidecar",
    "hotapi",
    "environments",
    "domains",
    "projects",
    "secrets_app",
    "builds",
    "stores",
    "files",
    "events",
    "runs",
    "tasks",
    "ingress",
    "operations",
]

MIDDLEWARE = [
    "hotapi.api.middleware.RequestIdMiddleware",
    "hotapi.api.middleware.AccessLogMiddleware",  # outside the throttle: 429s are logged too
    "hotapi.api.address_throttle.UnauthenticatedThrottleMiddleware",
    "hotapi.api.middleware.TrailingSlashMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "hotapi.api.guards.NoStoreMiddleware",
    "hotapi.api.guards.NulGuardMiddleware",
    "hotapi.api.throttling.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS and JS, the self-hosted docs UI) under any server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers locked-out admin logins
]

# --- HTTPS, cookies, admin logins -----------------------------------------------------------
# Off by default (the embedded server speaks plain HTTP on loopback); a production deployment
# behind TLS turns them on (README, "Production settings"; `manage.py check --deploy` is clean).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^status$"]  # load balancer health checks may use plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# The header a TLS-terminating proxy sets to "https", e.g. X-Forwarded-Proto. Only set it when
# the proxy overwrites that header on every request: clients must not be able to forge it.
_proxy_ssl_header = env_str("HOT_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Admin logins (django-axes): after this many failures an address is locked out for a while.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("HOT_ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HOT_ADMIN_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True

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
    # Files and blobs (files/storage.py): the same bucket, under their own prefix.
    _files_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_build_storage["OPTIONS"], "location": "files"},
    }
else:
    _build_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "builds")},
    }
    _files_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "files")},
    }
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "builds": _build_storage,
    "files": _files_storage,
    # collectstatic writes compressed copies whitenoise serves; without it (``make run``) the
    # files are found in the installed apps (WHITENOISE_USE_FINDERS).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Celery ---------------------------------------------------------------------------------
# Periodic work runs in the maintenance loop (`manage.py runmaintenance`), not in Celery beat:
# the scheduler tick (also starts due retries), the sweep for lost messages, the lease reaper.
HOT_SCHEDULER_TICK_SECONDS = env_float("HOT_SCHEDULER_TICK_SECONDS", 1)
# Active dynamic schedules (``hot:schedule:new``) an environment may have at once.
HOT_MAX_DYNAMIC_SCHEDULES = env_int("HOT_MAX_DYNAMIC_SCHEDULES", 10_000)
HOT_SWEEP_INTERVAL_SECONDS = env_float("HOT_SWEEP_INTERVAL_SECONDS", 3)
HOT_REAPER_INTERVAL_SECONDS = env_float("HOT_REAPER_INTERVAL_SECONDS", 5)
HOT_WORKER_CONCURRENCY = env_int("HOT_WORKER_CONCURRENCY", 2)  # runhot's worker
# Celery's Django fix-up closes every connection before and after each task and, with Django's
# pool, destroys the pool as well: two new PostgreSQL connections per task. This turns its
# closing off (the count of tasks between closes is never reached); instead a worker keeps its
# connection across tasks, checks it after an error or a quiet spell and drops it if broken
# (``hotapi.db.keep_usable_connections``, called around every task by hotapi/celery.py).
CELERY_DB_REUSE_MAX = 2**62
HOT_DB_IDLE_CHECK_SECONDS = env_float("HOT_DB_IDLE_CHECK_SECONDS", 5)
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
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Django's LOGGING (with request ids) applies

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["hotapi.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["hotapi.api.permissions.DeclaredPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["hotapi.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "hotapi.api.negotiation.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["hotapi.api.parsers.HotJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "hotapi.api.pagination.HotPagination",
    "DEFAULT_THROTTLE_CLASSES": ["hotapi.api.throttling.EnvironmentRateThrottle"],
    "EXCEPTION_HANDLER": "hotapi.api.exceptions.envelope_exception_handler",
    "DEFAULT_METADATA_CLASS": "hotapi.api.metadata.EnvelopeMetadata",
    # Media types are chosen with Accept only: no undocumented ?format= parameter.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_SCHEMA_CLASS": "hotapi.api.schema.HotAutoSchema",
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
    # 3.1: JSON Schema 2020-12, so each SSE event's JSON payload can be described
    # (contentMediaType / contentSchema).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are validated in full (a project's name is its only field): no "Patched"
    # variant with every field optional.
    "COMPONENT_SPLIT_PATCH": False,
    "PREPROCESSING_HOOKS": ["hotapi.api.schema.only_v1_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hotapi.api.schema.envelope_postprocessing_hook",
        # /webhook and /mcp (plain Django views), described by the app that serves them.
        "ingress.schema.ingress_paths_hook",
    ],
    "ENUM_NAME_OVERRIDES": {},
    # Swagger UI and Redoc are served from this service (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# API requests without valid credentials allowed per client address and hour (0: no limit).
HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR = env_int("HOT_UNAUTHENTICATED_REQUESTS_PER_HOUR", 600)

# --- Builds and runtime ---------------------------------------------------------------------
HOT_BUILD_MAX_BYTES = env_int("HOT_BUILD_MAX_BYTES", 100 * 1024 * 1024)
# Uploads stream to temporary files here (on disk: /tmp may be memory-backed).
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
# Temporary upload files this old are removed when a web process starts, whoever owned them
# (those of a process that is gone are removed whatever their age).
HOT_UPLOAD_TMP_MAX_AGE_SECONDS = env_int("HOT_UPLOAD_TMP_MAX_AGE_SECONDS", 24 * 3600)
HOT_RUNTIME = env_str("HOT_RUNTIME", "hotapi.runtime.HotlangRuntime")
# Preparing (compiling) a bundle's sources may take at most this long; beyond, the deploy fails.
HOT_PREPARE_MAX_SECONDS = env_float("HOT_PREPARE_MAX_SECONDS", 10)
# Limits on one run; exceeding any ends the run as failed with a clear message.
HOT_RUN_MAX_STEPS = env_int("HOT_RUN_MAX_STEPS", 10_000_000)
HOT_RUN_MAX_SECONDS = env_float("HOT_RUN_MAX_SECONDS", 60)
HOT_RUN_MAX_DEPTH = env_int("HOT_RUN_MAX_DEPTH", 2_000)
HOT_RUN_MAX_VALUE_BYTES = env_int("HOT_RUN_MAX_VALUE_BYTES", 10 * 1024 * 1024)
# Branch threads one run may use at once for `parallel` and `pmap` (I/O concurrency).
HOT_RUN_MAX_THREADS = env_int("HOT_RUN_MAX_THREADS", 8)
# Run logs (println and the runtime's own lines): lines kept per run, and characters per line.
HOT_RUN_LOG_MAX_LINES = env_int("HOT_RUN_LOG_MAX_LINES", 2_000)
HOT_RUN_LOG_MAX_LINE_CHARS = env_int("HOT_RUN_LOG_MAX_LINE_CHARS", 4_000)

# Outbound network from Hot code (::hot::http, ::hot::tcp). Loopback, private, link-local and
# metadata addresses are refused unless listed (host, address or CIDR, optionally :port).
HOT_EGRESS_ALLOW = env_list("HOT_EGRESS_ALLOW", [])
HOT_HTTP_TIMEOUT_SECONDS = env_float("HOT_HTTP_TIMEOUT_SECONDS", 30)
HOT_HTTP_MAX_RESPONSE_BYTES = env_int("HOT_HTTP_MAX_RESPONSE_BYTES", 10 * 1024 * 1024)
HOT_HTTP_MAX_REDIRECTS = env_int("HOT_HTTP_MAX_REDIRECTS", 5)

# ::hot::store: the largest value (JSON bytes) and the stores' total per environment.
HOT_STORE_MAX_VALUE_BYTES = env_int("HOT_STORE_MAX_VALUE_BYTES", 1024 * 1024)
HOT_STORE_MAX_BYTES_PER_ENV = env_int("HOT_STORE_MAX_BYTES_PER_ENV", 256 * 1024 * 1024)
# Entries a semantic search compares at most (a scan over stored vectors).
HOT_STORE_SEARCH_SCAN_LIMIT = env_int("HOT_STORE_SEARCH_SCAN_LIMIT", 50_000)
# A running run's worker renews its lease; the reaper fails runs whose lease expired.
HOT_RUN_LEASE_SECONDS = env_int("HOT_RUN_LEASE_SECONDS", 30)
# Each worker process reuses the month's summed run time this long when checking the quota.
HOT_COMPUTE_QUOTA_CACHE_SECONDS = env_float("HOT_COMPUTE_QUOTA_CACHE_SECONDS", 10)
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
# Open SSE streams allowed per API key at once (429 too_many_streams beyond; 0: no limit).
HOT_SSE_MAX_STREAMS_PER_KEY = env_int("HOT_SSE_MAX_STREAMS_PER_KEY", 100)

# Files (/v1/files, ::hot::file): the largest file, the largest request body (one PUT upload or
# one part of a multipart upload), the smallest part but the last and the part size suggested
# when an upload starts, how long an unfinished multipart upload is kept, and the largest file
# Hot code may read into memory.
HOT_FILE_MAX_BYTES = env_int("HOT_FILE_MAX_BYTES", 5 * 1024**3)
HOT_FILE_UPLOAD_MAX_BYTES = env_int("HOT_FILE_UPLOAD_MAX_BYTES", 256 * 1024**2)
HOT_FILE_PART_MIN_BYTES = env_int("HOT_FILE_PART_MIN_BYTES", 5 * 1024**2)
HOT_FILE_PART_SIZE = env_int("HOT_FILE_PART_SIZE", 64 * 1024**2)
HOT_FILE_UPLOAD_EXPIRY_SECONDS = env_int("HOT_FILE_UPLOAD_EXPIRY_SECONDS", 24 * 3600)
HOT_FILE_READ_MAX_BYTES = env_int("HOT_FILE_READ_MAX_BYTES", HOT_RUN_MAX_VALUE_BYTES)
# Large payloads: a string (or Bytes) in event data, a run result, a captured variable or a
# task's arguments at least this large is kept as a blob in the file storage and referenced
# from the row; so is what remains of a payload whose JSON is still larger. The API gives
# payloads back whole, up to HOT_BLOB_INLINE_MAX_BYTES of blobs per response (beyond, the
# references are shown and GET /v1/blobs/{id}/download serves them).
HOT_BLOB_THRESHOLD_BYTES = env_int("HOT_BLOB_THRESHOLD_BYTES", 256 * 1024)
HOT_BLOB_INLINE_MAX_BYTES = env_int("HOT_BLOB_INLINE_MAX_BYTES", 64 * 1024**2)

# Background tasks (::hot::task): the timeout of a task that names none, the longest one may
# name (a task's timeout is its time limit), and a step limit for tasks (0: none, the timeout
# bounds them).
HOT_TASK_DEFAULT_TIMEOUT_MS = env_int("HOT_TASK_DEFAULT_TIMEOUT_MS", 30 * 60 * 1000)
# Webhooks and MCP tool calls wait this long for their run; beyond, the run is cancelled and
# the caller gets 504 (webhooks) or a JSON-RPC error (MCP).
HOT_WEBHOOK_TIMEOUT_SECONDS = env_float("HOT_WEBHOOK_TIMEOUT_SECONDS", 30)
HOT_MCP_TIMEOUT_SECONDS = env_float("HOT_MCP_TIMEOUT_SECONDS", 60)
# How long a legacy HTTP+SSE MCP session (GET /mcp/...) stays open.
HOT_MCP_SSE_SESSION_SECONDS = env_float("HOT_MCP_SSE_SESSION_SECONDS", 300)
# Webhook and MCP calls of one environment waiting for their runs at once, per web process
# (each holds a thread); beyond, 429 too_many_calls_in_flight (0: no limit).
HOT_INGRESS_MAX_WAITING_CALLS = env_int("HOT_INGRESS_MAX_WAITING_CALLS", 50)
# Largest webhook request body (larger → 413 before the body is read).
HOT_WEBHOOK_MAX_BODY_BYTES = env_int("HOT_WEBHOOK_MAX_BODY_BYTES", 1024 * 1024)
HOT_TASK_MAX_TIMEOUT_MS = env_int("HOT_TASK_MAX_TIMEOUT_MS", 24 * 3600 * 1000)
HOT_TASK_MAX_STEPS = env_int("HOT_TASK_MAX_STEPS", 0)

# Largest JSON body accepted (context values are bounded separately); larger → 413. Event
# bodies (POST /events, subscribe-with-event) have their own, larger limit.
HOT_MAX_JSON_BODY_BYTES = env_int("HOT_MAX_JSON_BODY_BYTES", 1024 * 1024)
HOT_MAX_EVENT_BODY_BYTES = env_int("HOT_MAX_EVENT_BODY_BYTES", 32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(
    HOT_MAX_JSON_BODY_BYTES, HOT_MAX_EVENT_BODY_BYTES, HOT_WEBHOOK_MAX_BODY_BYTES
)
HOT_CONTEXT_VALUE_MAX_BYTES = env_int("HOT_CONTEXT_VALUE_MAX_BYTES", 64 * 1024)
# JSON nested deeper than this is refused with 400 (every consumer walks values recursively).
HOT_MAX_JSON_DEPTH = env_int("HOT_MAX_JSON_DEPTH", 128)

# --- i18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("HOT_STATIC_ROOT") or DATA_DIR / "static").resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # filled by collectstatic; may stay empty
WHITENOISE_USE_FINDERS = True  # serve app static files even before collectstatic has run
WHITENOISE_AUTOREFRESH = DEBUG
# A message may never carry a secret in a cookie: messages live in the session.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Operations: health, metrics, worker heartbeats ------------------------------------------
HOT_WORKER_HEARTBEAT_SECONDS = env_float("HOT_WORKER_HEARTBEAT_SECONDS", 10)
# /readyz fails when no worker has reported for this long.
HOT_READY_WORKER_MAX_AGE_SECONDS = env_float("HOT_READY_WORKER_MAX_AGE_SECONDS", 60)
# Shared by every process of one host so /metrics sums them (prometheus_client multiprocess
# mode); runhot points it into the data dir. Unset: each process reports only itself.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR") or None
HOT_METRICS_TOKEN = env_str("HOT_METRICS_TOKEN") or None  # bearer token /metrics asks for

# --- Logging --------------------------------------------------------------------------------
# plain: one readable line per record; json: one JSON object per line for log shippers.
HOT_LOG_FORMAT = env_str("HOT_LOG_FORMAT", "plain").lower()
if HOT_LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"HOT_LOG_FORMAT must be 'plain' or 'json', got {HOT_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hotapi.api.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": HOT_LOG_FORMAT,
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
        "axes.apps": {"level": "WARNING"},  # a start-up banner in every command otherwise
        # Noise an operator cannot act on: the filesystem broker has no host name, and
        # uvicorn's own access log is replaced by ours (hot.access).
        "kombu.connection": {"level": "ERROR"},
        "uvicorn.access": {"level": "WARNING"},
    },
}
