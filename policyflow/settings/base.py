"""Settings read from the environment (twelve-factor) with safe defaults for local use.

Every variable is documented in `.env.example`. Production adds its own checks in
`policyflow.settings.production`.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-never-use-in-production")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base URL used in emails and task links: never derived from the request's Host header.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "viewflow",
    "viewflow.workflow",
    "simple_history",
    "pgtrigger",
    "audit",
    "csp",
    "municipalities",
    "workflows",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "policyflow.urls"
WSGI_APPLICATION = "policyflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'policyflow.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's model backend, reading a user's own and group permissions in one query.
AUTHENTICATION_BACKENDS = ["policyflow.auth_backends.OneQueryModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Swedish first, English available.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# The largest minutes file a project leader may upload (README "Decisions"), in bytes.
MINUTES_MAX_BYTES = env.int("MINUTES_MAX_BYTES", default=20 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Email: printed to the console locally; SMTP in production (EMAIL_URL).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PolicyFlow <policyflow@localhost>")
# A hung SMTP server must never block a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Celery. Without CELERY_BROKER_URL an embedded file-system broker is used, so `make run`
# needs nothing but Python. Production and tests use Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
if CELERY_BROKER_URL.startswith("filesystem"):
    _queue_dir = VAR_DIR / "celery-queue"
    # The file-system transport needs its folders to exist before the worker starts.
    for _folder in (_queue_dir, VAR_DIR / "celery-processed"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        data_folder_in=str(_queue_dir),
        data_folder_out=str(_queue_dir),
        processed_folder=str(VAR_DIR / "celery-processed"),
        store_processed=False,
    )
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    # Approval reminders and stall alerts: hourly is fine-grained enough for days-long limits.
    "workflows-approval-reminders": {
        "task": "workflows.send_approval_reminders",
        "schedule": 3600.0,
    },
    "workflows-alert-stalled": {"task": "workflows.alert_stalled", "schedule": 3600.0},
    "workflows-stalled-digest": {
        "task": "workflows.send_stalled_digest",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
    # The outbox sweep: re-enqueues notifications a broker outage or a dead worker left queued.
    "notifications-sweep-outbox": {
        "task": "notifications.sweep_outbox",
        "schedule": env.float("NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
    # Re-compute the audit chain every night; alerts the steering group when it is broken.
    "audit-verify-chain": {
        "task": "audit.verify_chain",
        "schedule": crontab(hour=2, minute=30),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Notifications (outbox + Celery). Attempts before a notification is marked failed; the first
# retry delay in seconds, doubled each attempt and capped (keep the cap below the broker's
# visibility_timeout); how long a queued notification may be overdue before the sweep
# re-enqueues it, and how many one sweep takes; how long to skip the broker after a failed
# publish (the sweep catches up); at most how many notifications one task message carries
# (a worker sends them one by one over one SMTP connection); how long a worker keeps an idle
# SMTP connection open for the next message (0: a connection per task message).
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_BACKOFF_SECONDS = env.float("NOTIFICATIONS_BACKOFF_SECONDS", default=60.0)
NOTIFICATIONS_BACKOFF_MAX_SECONDS = env.float("NOTIFICATIONS_BACKOFF_MAX_SECONDS", default=1800.0)
NOTIFICATIONS_SWEEP_GRACE_SECONDS = env.float("NOTIFICATIONS_SWEEP_GRACE_SECONDS", default=60.0)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=500)
NOTIFICATIONS_BROKER_PAUSE_SECONDS = env.float("NOTIFICATIONS_BROKER_PAUSE_SECONDS", default=10.0)
NOTIFICATIONS_DELIVERY_BATCH = env.int("NOTIFICATIONS_DELIVERY_BATCH", default=50)
NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS = env.float(
    "NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS", default=30.0
)

# Content Security Policy (django-csp 4): only our own resources, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# PolicyFlow's own settings.
POLICYFLOW = {
    # Days a municipal contact's task link stays valid.
    "TASK_LINK_DAYS": env.int("TASK_LINK_DAYS", default=30),
    # Where people write when a link does not work (shown on the dead-link page).
    "SUPPORT_EMAIL": env("SUPPORT_EMAIL", default="policyflow@regionkronoberg.se"),
    # Approval reminders: N days after the request, and M days before the links expire.
    "APPROVAL_REMINDER_AFTER_DAYS": env.int("APPROVAL_REMINDER_AFTER_DAYS", default=7),
    "APPROVAL_REMINDER_BEFORE_EXPIRY_DAYS": env.int(
        "APPROVAL_REMINDER_BEFORE_EXPIRY_DAYS", default=5
    ),
}

# Audit trail (docs/audit.md). The HMAC key of the hash chain: set it in production and keep it
# as long as the record (verification needs it); empty derives one from SECRET_KEY (local use).
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default="")
AUDIT_READ_PERMISSION = "workflows.view_policyprocess"
AUDIT_ALERT_PERMISSION = "workflows.follow_policyprocess"
# Seconds the overview, inbox, process page and timelines keep their rendered content at most:
# any write shows at once (audit.page_cache), so this bounds only what is not audited.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# The history tables' append-only triggers are installed after every migrate (they belong to
# other apps' tables, so they are not in migrations); simple-history's admin never reverts.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
