"""Settings for the archive: one file, configured by environment variables.

Defaults are safe for a fresh checkout: SQLite and a secret key in the local
data directory (``var/`` or ``$ARCHIVE_DATA_DIR``), DEBUG off, localhost only.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ARCHIVE_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


def _secret_key() -> str:
    """The key from the environment, else one generated once into DATA_DIR.

    The key is written to a private file and linked into place, so when
    several processes start at once exactly one key wins and nobody reads a
    half-written file.
    """
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won; use its key
        finally:
            tmp.unlink()
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# Origins (scheme and host) that may post forms when they differ from the
# host, e.g. "https://archive.example.org" behind a TLS-terminating proxy.
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# HTTPS, for an archive behind a proxy that terminates TLS (all off by
# default: `make run` serves plain HTTP on loopback). The README's production
# block turns them on; `manage.py check --deploy` then reports nothing.
if _env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    # Only when the proxy sets X-Forwarded-Proto and strips the client's own.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT")
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=bool(SECURE_HSTS_SECONDS)
)
SECURE_HSTS_PRELOAD = _env_bool(
    "DJANGO_SECURE_HSTS_PRELOAD", default=bool(SECURE_HSTS_SECONDS)
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "archive.apps.ArchiveConfig",
]

MIDDLEWARE = [
    # First, so that every response and every log line has a request id.
    "archive.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (whitenoise serves static files precompressed) and
    # answered 304 when the reader's copy is current.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "archive.throttle.RateLimitMiddleware",
    "archive.replicas.ReplicaMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "archive.urls"
WSGI_APPLICATION = "archive.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'archive.sqlite3'}", conn_max_age=60
    )
}
# A connection kept between requests is checked before reuse, so a restarted
# PostgreSQL costs a reconnect rather than a failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers (gunicorn workers) run beside a writer; IMMEDIATE takes
    # the write lock at BEGIN so concurrent writers queue instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# A read replica (DATABASE_REPLICA_URL, PostgreSQL) serves anonymous readers'
# page views; searches, the admin and writes use the primary
# (archive/replicas.py). In tests the replica mirrors the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["archive.replicas.ReplicaRouter"]

# Rendered transcripts (archive/pages.py), shared by every worker on the host.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": DATA_DIR / "cache",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Staff sign in through the admin, whose login django-axes guards: five
# wrong passwords for one account from one address lock that pair out for
# 15 minutes (a cool-off, never a permanent lock, and never the account for
# everyone, so nobody can lock staff out by guessing at their names). Each
# address also has a sign-in allowance of its own (ARCHIVE_RATE_LIMITS).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ARCHIVE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("ARCHIVE_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "archive.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "archive.views.locked_out"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The admin edits long transcripts (real podcasts run to 1,100 turns and more,
# about ten form fields each); Django's default of 1,000 fields would refuse
# to save them. Only staff reach the admin.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 40_000
# The admin's import page posts whole transcripts (pasted, or carried from
# its preview); the public site takes no POST at all.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 2**20

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# JSON lines on standard error (ARCHIVE_LOG_FORMAT=text for plain lines), each
# with the request id of the request that wrote it (archive/logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "archive.logs.JsonLines"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("ARCHIVE_LOG_FORMAT", "json"),
        }
    },
    "loggers": {
        "archive": {"handlers": ["console"], "level": "INFO"},
        "django.request": {"handlers": ["console"], "level": "ERROR"},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}
ARCHIVE_SLOW_REQUEST_SECONDS = float(os.environ.get("ARCHIVE_SLOW_REQUEST_SECONDS", 1))
ARCHIVE_SLOW_SEARCH_SECONDS = float(os.environ.get("ARCHIVE_SLOW_SEARCH_SECONDS", 0.5))

# A strict policy (django-csp): everything from this site, no inline script
# or style, nothing framed. The JSON-LD block in pages is data, not script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Requests per client address ("count/seconds") for searches, for the API,
# feeds and exports, and for posting the staff login form
# (archive/throttle.py); counted in the database, so shared by every worker
# and app server.
ARCHIVE_RATE_LIMITS = [
    ("search", os.environ.get("ARCHIVE_RATE_SEARCH", "60/60")),
    ("reuse", os.environ.get("ARCHIVE_RATE_REUSE", "300/60")),
    ("login", os.environ.get("ARCHIVE_RATE_LOGIN", "20/600")),
]
# Addresses or networks exempt from those limits: "127.0.0.1,::1" for a load
# test from loopback.
ARCHIVE_RATE_LIMIT_EXEMPT = _env_list("ARCHIVE_RATE_LIMIT_EXEMPT")
# How many proxies stand in front of the app servers, each appending to
# X-Forwarded-For; 0 (the default) ignores the header, which anyone can send.
ARCHIVE_TRUSTED_PROXIES = int(os.environ.get("ARCHIVE_TRUSTED_PROXIES", "0"))

# The address readers use, for permanent links and citations ("https://
# archive.example.org"): right behind a proxy. Empty: taken from each request.
ARCHIVE_PUBLIC_URL = os.environ.get("ARCHIVE_PUBLIC_URL", "").rstrip("/")

ARCHIVE_PAGE_SIZE = 20
ARCHIVE_SPEAKER_TURNS_PAGE_SIZE = 50

# Each search may touch this many postings and terms, and take this long,
# before it stops with the best hits found and says it was too broad to count.
ARCHIVE_SEARCH_WORK = int(os.environ.get("ARCHIVE_SEARCH_WORK", 200_000_000))
ARCHIVE_SEARCH_SECONDS = float(os.environ.get("ARCHIVE_SEARCH_SECONDS", 0.8))

# The search engine: "whoosh" (the default: an index in DATA_DIR, kept by the
# index_worker) or "postgres" (PostgreSQL full-text search over entries kept
# in the database with every change: no index files, no worker, so any number
# of app servers can share one database).
ARCHIVE_SEARCH_BACKEND = os.environ.get("ARCHIVE_SEARCH_BACKEND", "whoosh").strip()
if ARCHIVE_SEARCH_BACKEND not in ("whoosh", "postgres"):
    raise ImproperlyConfigured(
        f"ARCHIVE_SEARCH_BACKEND is {ARCHIVE_SEARCH_BACKEND!r}: it must be "
        "'whoosh' or 'postgres'."
    )
if (
    ARCHIVE_SEARCH_BACKEND == "postgres"
    and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
):
    raise ImproperlyConfigured(
        "ARCHIVE_SEARCH_BACKEND=postgres searches with PostgreSQL, but "
        "DATABASE_URL is not a PostgreSQL database (it is "
        f"{DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}); set DATABASE_URL="
        "postgres://… or use ARCHIVE_SEARCH_BACKEND=whoosh."
    )
