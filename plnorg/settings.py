"""Settings for plnorg.

This is the only module that reads the environment (see .env.example for every
variable). With no variables set, plnorg runs in the *embedded* mode: SQLite
under var/, Celery on the filesystem:// broker under var/, console email, a
local-memory cache. Setting DATABASE_URL, REDIS_URL, CACHE_URL, EMAIL_URL,
SECRET_KEY, ALLOWED_HOSTS and DEBUG=off switches to production.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env file is optional; real deployments set variables in the environment.
env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
EMBEDDED = not env("DATABASE_URL", default="")
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        # Embedded/dev mode only: a random key generated once and kept in var/.
        import secrets

        VAR_DIR.mkdir(exist_ok=True)
        key_file = VAR_DIR / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        SECRET_KEY = key_file.read_text().strip()
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. plnorg refuses to start without a secret key "
            "when DEBUG is off. Generate one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'"
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env("SITE_NAME", default="plnorg")
ORGANIZATION_NAME = env("ORGANIZATION_NAME", default="Example Organization")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "csp",
    # Our apps, bottom first. Dependencies go one way (an import-linter contract
    # checks it): core <- members <- feeds <- workshops <- the plnorg apps <- plnorg.
    # The order is also the order of each app's part in a member's data export.
    "core",
    "members",
    "feeds",
    "feeds.reader",
    "feeds.websub",
    "workshops",
    "workshops.clock",
    "plnorg.introductions",
    "plnorg.chat",
    "plnorg.dashboard",
    "plnorg.privacy",
    "plnorg.home",
    "plnorg.provisioning",
    "plnorg",
]

MIDDLEWARE = [
    "core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "members.middleware.MemberTimezoneMiddleware",
    "members.middleware.MFARequiredMiddleware",
    "core.permissions.PermissionMapMiddleware",
]

ROOT_URLCONF = "plnorg.urls"
WSGI_APPLICATION = "plnorg.wsgi.application"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "plnorg.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Embedded mode: SQLite under var/ (WAL journal is switched on at connection
# time in plnorg.apps). Production: DATABASE_URL=postgres://...
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        # SQLITE_PATH moves the embedded database (the embedded-mode test uses a temp file).
        default=f"sqlite:///{env('SQLITE_PATH', default=str(VAR_DIR / 'plnorg.sqlite3'))}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode a connection changes hands between
    # transactions, so named (server-side) cursors, which .iterator() opens,
    # cannot live across them: turn them off (and set CONN_MAX_AGE=0).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_TRANSACTION_POOLING", default=False)
# The queries core.querymemo keeps are prepared on the server once per
# connection (PostgreSQL then plans them once, not on every request). A
# connection that changes hands between transactions (PgBouncer in
# transaction mode, DATABASE_TRANSACTION_POOLING=1) cannot keep them.
DATABASE_PREPARED_STATEMENTS = env.bool(
    "DATABASE_PREPARED_STATEMENTS",
    default=DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    and not DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS", False),
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# A separate Redis (allkeys-lru). Exceptions are ignored so a cache outage
# slows pages down but never breaks them (or login: core.cache makes
# cache.add, which allauth's rate limits lock with, fail open). Sessions live
# in the DB and, with a cache, are read through it (cached_db: one Redis GET
# instead of a query on every signed-in request; an evicted or unreachable
# copy falls back to the row, and ending a session deletes both).
CACHE_URL = env("CACHE_URL", default="")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="plnorg")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if CACHE_URL else "django.contrib.sessions.backends.db"

# --- Celery -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # Queueing a task (apply_async) with Redis down fails within about a
        # second instead of retrying forever; the outbox sweep and the feed
        # scheduler pick up what could not be queued. Workers reconnect on
        # their own (CELERY_BROKER_CONNECTION_MAX_RETRIES), unaffected.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
        "socket_connect_timeout": 2,
    }
else:
    # Embedded mode: a broker made of folders, no Redis needed.
    for folder in ("celery/out", "celery/processed"):
        (VAR_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery/out"),
        "data_folder_out": str(VAR_DIR / "celery/out"),
        "processed_folder": str(VAR_DIR / "celery/processed"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="plnorg")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits stay well below the broker's visibility timeout (3600 s), so a
# task is never redelivered while it is still legitimately running.
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"

# --- Email ------------------------------------------------------------------
# Every email is written to the members.OutboundEmail table first and sent by
# a task (see members/outbox.py).
# An empty EMAIL_URL (as in .env.example) means console email too.
EMAIL_CONFIG = env.email_url_config(env("EMAIL_URL", default="") or "consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds an SMTP connection may wait on the server: a stalled server ends the
# send (marked "unknown" if the message was on its way, see members/outbox.py)
# instead of holding a worker until the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="plnorg <plnorg@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Authentication (django-allauth) ----------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "members.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
# An SSO email counts as verified when the provider says so (email_verified,
# see members.adapters); otherwise the member confirms it like any sign-up.
SOCIALACCOUNT_EMAIL_VERIFICATION = "mandatory"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_ONLY = False
# Sign-up (by password or SSO) is limited to these email domains when set.
SIGNUP_DOMAINS = [d.lower().lstrip("@") for d in env.list("SIGNUP_DOMAINS", default=[])]
ACCOUNT_RATE_LIMITS = {
    # The 6th wrong password in a row for one account is throttled.
    "login_failed": "20/m/ip,5/5m/key",
    "signup": "20/m/ip",
    # The reading apps' sign-ins (feeds.reader): ClientLogin is limited like
    # the sign-in form (per address and per email); a Fever api_key carries
    # no email, so Fever is limited per address.
    "reader_login_failed": "20/m/ip,5/5m/key",
    "reader_fever_failed": "20/m/ip",
}
# The client's address, for the per-address rate limits above and the audit
# log (members.audit.client_ip asks allauth the same way). Behind the TLS proxy
# every request comes from the proxy; the client is the address our own
# proxies appended to X-Forwarded-For. TRUSTED_PROXY_COUNT is how many proxies
# of ours stand in front of gunicorn: the client is that many addresses from
# the right, and whatever the client itself put in the header further left is
# ignored. 0 (no proxy): X-Forwarded-For is ignored, the socket peer is the client.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# OpenID Connect providers are configured in the admin (Social applications).

# Two-factor authentication (allauth.mfa): TOTP and recovery codes. Required
# for admins and leaders who sign in with a password (members.middleware);
# SSO users rely on their provider's MFA. WebAuthn is left off: allauth's
# WebAuthn pages need inline scripts, which our strict CSP forbids.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# On by default; the embedded demo (DEBUG) turns it off so the demo logins work.
MFA_REQUIRED_FOR_PRIVILEGED = env.bool("MFA_REQUIRED_FOR_PRIVILEGED", default=not DEBUG)

# --- Internationalization ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads -----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "uploads")
# Uploads (workshop materials, the resource library) go to MEDIA_ROOT, or to an
# S3-compatible bucket (AWS, MinIO, Ceph, ...) through django-storages when
# S3_BUCKET is set. Either way the files are checked by content before they
# reach storage (workshops/uploads.py, called by the services) and are served
# only by plnorg's permission-checked views, never by a link to the storage:
# objects stay private. `make backup` copies MEDIA_ROOT only; a bucket needs its
# own backup (versioning or replication).


def uploads_storage(
    *,
    s3_bucket: str,
    s3_endpoint_url: str = "",
    s3_region: str = "",
    s3_access_key_id: str = "",
    s3_secret_access_key: str = "",
    s3_addressing_style: str = "",
) -> dict:
    """The STORAGES["default"] entry: the local folder, or the S3 bucket when
    one is named. A function so tests can build exactly what production uses."""
    if not s3_bucket:
        # Removes a half-written file and says so when the disk is full.
        return {"BACKEND": "core.storage.filesystem.SafeFileSystemStorage"}
    return {
        # django-storages' S3Storage that says so when the bucket is unreachable.
        "BACKEND": "core.storage.s3.SafeS3Storage",
        "OPTIONS": {
            "bucket_name": s3_bucket,
            # Empty values fall back to boto3's own lookup (AWS_* variables, an
            # instance role; AWS's endpoint), so a deployment on AWS may leave them out.
            "endpoint_url": s3_endpoint_url or None,
            "region_name": s3_region or None,
            "access_key": s3_access_key_id or None,
            "secret_key": s3_secret_access_key or None,
            # "path" for most self-hosted services (MinIO without a domain).
            "addressing_style": s3_addressing_style or None,
            "default_acl": "private",
            "querystring_auth": True,
            # Two uploads with one name never replace each other.
            "file_overwrite": False,
        },
    }


UPLOADS_STORAGE = uploads_storage(
    s3_bucket=env("S3_BUCKET", default=""),
    s3_endpoint_url=env("S3_ENDPOINT_URL", default=""),
    s3_region=env("S3_REGION", default=""),
    s3_access_key_id=env("S3_ACCESS_KEY_ID", default=""),
    s3_secret_access_key=env("S3_SECRET_ACCESS_KEY", default=""),
    s3_addressing_style=env("S3_ADDRESSING_STYLE", default=""),
)
STORAGES = {
    "default": UPLOADS_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not env.bool("STATIC_MANIFEST", default=not DEBUG)

# --- Security ----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Secure cookies in production; the test suite's plain-http live server turns
# them off (SESSION_COOKIE_SECURE=0) and the header checks turn them back on.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# includeSubDomains and preload affect every host under the domain and are
# hard to undo, so they are opt-in. check --deploy warns about both; the
# warnings are silenced below because the choice is deliberate.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
if not SECURE_SSL_REDIRECT:
    # TLS is terminated (and http redirected) by the proxy in front of us.
    SILENCED_SYSTEM_CHECKS.append("security.W008")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "https:", "data:"],
        "media-src": ["'self'", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Feeds -------------------------------------------------------------------
# CIDRs the safe fetcher may reach although private; for tests and benchmarks
# that serve feeds from 127.0.0.1. Empty in production.
FETCH_ALLOWED_PRIVATE_NETWORKS = env.list("FETCH_ALLOWED_PRIVATE_NETWORKS", default=[])
FETCH_USER_AGENT = env("FETCH_USER_AGENT", default=f"plnorg/1.0 (+{SITE_URL}; feed reader for {ORGANIZATION_NAME})")
FETCH_PER_HOST_LIMIT = env.int("FETCH_PER_HOST_LIMIT", default=4)
# How long a claimed feed stays leased to its fetch task. Must exceed the fetch
# task's hard time limit: a task lost with a dead worker or a restarted Redis
# is simply claimed again when its lease expires.
FETCH_LEASE_SECONDS = env.int("FETCH_LEASE_SECONDS", default=300)
FETCH_CLAIM_BATCH = env.int("FETCH_CLAIM_BATCH", default=1000)
# Feeds per fetch task, and how many of a task's feeds are fetched at once
# (threads in the worker process; the per-host limit still holds).
FETCH_BATCH_SIZE = env.int("FETCH_BATCH_SIZE", default=50)
FETCH_BATCH_THREADS = env.int("FETCH_BATCH_THREADS", default=8)
FEED_MAX_BYTES = env.int("FEED_MAX_BYTES", default=5 * 1024 * 1024)
FEED_FETCH_DEADLINE_SECONDS = env.float("FEED_FETCH_DEADLINE_SECONDS", default=30.0)
# Feed discovery (a member adds a site, and its page and announced feeds are
# read) runs inside the web request: everything it fetches shares this one
# budget, well under gunicorn's 30-second worker timeout.
DISCOVERY_DEADLINE_SECONDS = env.float("DISCOVERY_DEADLINE_SECONDS", default=8.0)
# Instant updates (WebSub, feeds.websub): subscribe at the hubs feeds advertise,
# with SITE_URL + /websub/callback/... as the callback, which the hubs must be
# able to reach. Off by default in the embedded mode (a laptop is unreachable).
WEBSUB_ENABLED = env.bool("WEBSUB_ENABLED", default=not EMBEDDED)
# The lease plnorg asks hubs for (they decide; 10 days is the spec's advice).
WEBSUB_LEASE_SECONDS = env.int("WEBSUB_LEASE_SECONDS", default=10 * 24 * 3600)

# --- Reading apps (feeds.reader) --------------------------------------------
# Entries published more than this many days ago count as read, so a new
# member (or one back from a long holiday) does not face thousands of unread.
READER_UNREAD_DAYS = env.int("READER_UNREAD_DAYS", default=30)

# --- Workshops -------------------------------------------------------------------
# Largest file a facilitator may upload (materials, resource library).
WORKSHOP_UPLOAD_MAX_BYTES = env.int("WORKSHOP_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# How long before a workshop's first session registered people get a reminder.
WORKSHOP_REMINDER_HOURS = env.int("WORKSHOP_REMINDER_HOURS", default=24)

# --- Chat channels ---------------------------------------------------------------
# Fernet keys (comma-separated, newest first; make one with
# `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)
# that encrypt chat channels' webhook addresses and Matrix tokens. Empty: a key
# derived from SECRET_KEY, so a new SECRET_KEY means entering those secrets
# again (plnorg/chat/encryption.py).
CHAT_SECRET_KEYS = env.list("CHAT_SECRET_KEYS", default=[])
for _chat_key in CHAT_SECRET_KEYS:
    import base64
    import binascii

    try:
        _chat_key_ok = len(base64.urlsafe_b64decode(_chat_key.encode())) == 32
    except (binascii.Error, ValueError):
        _chat_key_ok = False
    if not _chat_key_ok:
        raise ImproperlyConfigured("CHAT_SECRET_KEYS: each key must be a Fernet key (32 bytes, url-safe base64).")
# A channel whose messages fail this many times in a row is paused and the
# people who manage it are emailed.
CHAT_PAUSE_AFTER_FAILURES = env.int("CHAT_PAUSE_AFTER_FAILURES", default=5)

# --- Retention (shown to every member on the transparency page) ----------------
# Stream entries older than this are deleted nightly, except those picked,
# saved or recommended (time entries keep their own copy of title and link).
ENTRY_RETENTION_DAYS = env.int("ENTRY_RETENTION_DAYS", default=730)
FETCH_LOG_RETENTION_DAYS = env.int("FETCH_LOG_RETENTION_DAYS", default=30)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=90)

# --- Observability ---------------------------------------------------------------
# Logs: one JSON object per line with the request id (LOG_FORMAT=plain for a
# human-friendly console in development).
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs every request line with its full URL at INFO (httpcore
        # more at DEBUG): a chat webhook's URL is its secret. The fetcher's
        # callers log what they need (feeds: FetchLog; chat: the delivery).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
# Prometheus metrics at /metrics need this bearer token (no token: refused).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Combine samples of several gunicorn workers (prometheus_client multiprocess mode).
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")
# Optional error reporting.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.redis import RedisIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        # Its breadcrumbs carry Redis keys, and keys hold what must not leave:
        # session ids (sessions are read through the cache), the emails and
        # addresses of allauth's rate limits.
        disabled_integrations=[RedisIntegration()],
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        environment=env("SENTRY_ENVIRONMENT", default="production"),
    )
