"""Django settings for Yaojian.

Configuration comes from environment variables so that one code base serves the
embedded default (SQLite file under ``var/``) and PostgreSQL deployments:

* ``YAOJIAN_DATABASE_URL`` — ``postgres://user:pass@host:port/name``; unset → SQLite.
* ``YAOJIAN_SECRET_KEY`` / ``YAOJIAN_AUDIT_KEY`` — keys kept outside the database.
* ``YAOJIAN_DATA_KEY`` — the SM4 key of personal data at rest (see ``core.crypto``).
* ``YAOJIAN_BUYER_HASH_KEY`` — key of the buyers' keyed hash in smart-pharmacy records (counts of distinct
  buyers without the clear ID); derived from ``YAOJIAN_DATA_KEY`` when unset (see ``pharmacy.privacy``).
* ``YAOJIAN_TRACE_DIR`` / ``YAOJIAN_TRACE_ENGINE`` — trace event store (Parquet) and its engine, duckdb or spark.
* ``YAOJIAN_DEBUG`` — ``1`` for development.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("YAOJIAN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("YAOJIAN_SECRET_KEY", "yaojian-development-key-change-me-in-deployment")
# The audit chain is keyed separately so that a database administrator cannot re-sign an edited trail.
AUDIT_KEY = os.environ.get("YAOJIAN_AUDIT_KEY", SECRET_KEY + ":audit")
DEBUG = os.environ.get("YAOJIAN_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("YAOJIAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "ninja",
    "yaojian.core",
    "yaojian.registry",
    "yaojian.inspections",
    "yaojian.sampling",
    "yaojian.adr",
    "yaojian.complaints",
    "yaojian.enforcement",
    "yaojian.credit",
    "yaojian.risk",
    "yaojian.signals",
    "yaojian.surveillance",
    "yaojian.trace",
    "yaojian.casework",
    "yaojian.sentinel",
    "yaojian.pharmacy",
    "yaojian.imports",
    "yaojian.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yaojian.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "yaojian.urls"
WSGI_APPLICATION = "yaojian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "yaojian" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yaojian.core.context_processors.navigation",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.path.lstrip("/"),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
    }


if os.environ.get("YAOJIAN_DATABASE_URL"):
    DATABASES = {"default": _database_from_url(os.environ["YAOJIAN_DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("YAOJIAN_SQLITE_PATH", str(VAR_DIR / "yaojian.sqlite3")),
            "OPTIONS": {
                # WAL lets readers continue during imports; IMMEDIATE serialises writers up front,
                # which keeps the audit hash chain strictly ordered.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "yaojian" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it even before the first collectstatic
# Front-end packages are installed from npm at set-up and served locally (intranets have no internet).
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "yaojian" / "static"] + (
    [("vendor/echarts", NODE_MODULES / "echarts" / "dist")] if (NODE_MODULES / "echarts").exists() else []
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

DJANGO_TABLES2_TEMPLATE = "tables/table.html"
DJANGO_TABLES2_PAGE_RANGE = 7

# Imports: limits that keep hostile files from exhausting the machine.
YAOJIAN_IMPORT_MAX_BYTES = int(os.environ.get("YAOJIAN_IMPORT_MAX_BYTES", 512 * 1024 * 1024))
YAOJIAN_IMPORT_MAX_COLUMNS = 200
YAOJIAN_IMPORT_MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
YAOJIAN_IMPORT_MAX_XLSX_RATIO = 200
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Trace event store 追溯事件库 (Parquet, see yaojian/trace/store.py) and its default query engine (duckdb | spark).
YAOJIAN_TRACE_DIR = Path(os.environ.get("YAOJIAN_TRACE_DIR", VAR_DIR / "trace"))
YAOJIAN_TRACE_ENGINE = os.environ.get("YAOJIAN_TRACE_ENGINE", "duckdb")
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Scheduled jobs of the domains, run by ``yaojian risk scheduler`` (docs/operations.md): daily ones before the
# nightly risk recomputation (called with the day and the time), frequent ones with each webhook round (the time).
YAOJIAN_DAILY_JOBS = [
    "yaojian.casework.jobs.daily",
    "yaojian.sentinel.jobs.daily",
    "yaojian.pharmacy.jobs.daily",
    "yaojian.trace.jobs.daily",
]
YAOJIAN_FREQUENT_JOBS = ["yaojian.sentinel.jobs.frequent"]
