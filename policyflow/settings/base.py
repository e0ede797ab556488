"""Settings read from the environment (twelve-factor) with safe defaults for local use.

Every variable is documented in `.env.example`. Production adds its own checks in
`policyflow.settings.production`.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from policyflow.cache import cache_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

# Everything the quick start writes (SQLite database, embedded broker, emails, beat's schedule,
# uploads) lives here, so `git status` stays clean; tests point it at a temporary folder.
VAR_DIR = BASE_DIR / env("VAR_DIR", default="var")  # a relative path is under the project

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-never-use-in-production")
# Older secret keys, still accepted after a rotation: sessions, and the task links sealed in the
# outbox (notifications/sealing.py) while they wait for delivery.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base URL used in emails and task links: never derived from the request's Host header.
# (make run serves on RUN_PORT, 8000 unless set.)
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('RUN_PORT', default='8000')}").rstrip(
    "/"
)

INSTALLED_APPS = [
    "policyflow.admin.PolicyFlowAdminConfig",  # superusers only (policyflow/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "viewflow",
    "viewflow.workflow",
    "simple_history",
    "pgtrigger",
    "audit",
    "csp",
    "municipalities",
    "workflows",
    "notifications",
    "enterprises",
    "outreach",
    "network",
    "followup",
    "public_progress",
    "exports",
    "rest_framework",
    "drf_spectacular",
    "interfaces",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session and locale middleware, which read the cookies it drops.
    "policyflow.middleware.DropNullCookiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Sessions signed in by Django's ModelBackend stay signed in under the cached one.
    "policyflow.middleware.RenamedBackendMiddleware",
    # Django's LocaleMiddleware without its Accept-Language step: Swedish unless the visible
    # switch chose English (the language cookie).
    "policyflow.locale.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "policyflow.middleware.PrivateCacheControlMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Inside the header middleware above, so its 400 page gets their headers too.
    "policyflow.middleware.RejectNullCharactersMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
            # Django's ``date`` filter, the short ISO dates written directly (policyflow.dates).
            "builtins": ["policyflow.dates"],
        },
    },
]


def for_sqlite(database: dict) -> dict:
    """``database`` with the options a SQLite file needs to serve a few users at once (web,
    worker, beat, several requests); other databases unchanged.

    - transaction_mode IMMEDIATE: every transaction takes the write lock at BEGIN, so concurrent
      writers queue there (for up to `timeout` seconds) instead of failing with "database is
      locked" when a read turns into a write; it is also what makes the flow's lock and the
      outbox's row lock real on SQLite (SELECT … FOR UPDATE is ignored there);
    - WAL: readers never wait for the writer, nor it for them; synchronous=NORMAL is safe in
      WAL (a power cut may lose the last commits, never corrupt the file).
    """
    if database.get("ENGINE") == "django.db.backends.sqlite3":
        database.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": env.float("SQLITE_TIMEOUT_SECONDS", default=30.0),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            }
        )
    return database


def for_postgresql(database: dict) -> dict:
    """``database`` with its statements prepared on the server (PostgreSQL; others unchanged).

    Django binds parameters on the client and prepares nothing by default, so PostgreSQL plans
    every statement of every request again: about a third of its CPU on a page (0.2-0.6 ms a
    statement, 8-12 statements a page). With server-side binding, psycopg prepares a statement
    once a connection has run it `DATABASE_PREPARE_THRESHOLD` times and reuses its plan; the
    workers' connections are persistent (CONN_MAX_AGE), so the pages, the steps and the mail
    worker repeat prepared statements. An empty value turns both off (Django's default), as a
    transaction-mode pooler such as PgBouncer needs.
    """
    if database.get("ENGINE") == "django.db.backends.postgresql":
        threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip()
        if threshold:
            database.setdefault("OPTIONS", {}).update(
                {"server_side_binding": True, "prepare_threshold": int(threshold)}
            )
    return database


DATABASES = {
    "default": for_postgresql(
        for_sqlite(env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'policyflow.sqlite3'}"))
    ),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
IS_SQLITE = DATABASES["default"].get("ENGINE") == "django.db.backends.sqlite3"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes' standalone backend first: it refuses a locked-out sign-in before any password is
# checked, and authenticates nobody itself, so it needs no combining with the next. Then Django's
# model backend whose permissions (and the county roles) are kept in the cache until they change
# (municipalities.access, docs/decisions/access-cache.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "municipalities.access.CachedModelBackend",
]
# How long a user's permissions and roles are kept at most: any change of them replaces the
# entry at once; this bounds only a change the cache could not be told of (Redis unreachable
# from the writer at that moment).
ACCESS_CACHE_SECONDS = env.int("ACCESS_CACHE_SECONDS", default=300)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Swedish first, English available.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates that read the same to everyone in both languages (ISO 8601 when short, no 12-hour clock).
FORMAT_MODULE_PATH = ["policyflow.formats"]
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
    # Finished exports (exports app): downloaded through a permission-checked view only.
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT) + "/exports"},
    },
}

# Email: written as files under var/emails locally (listed for staff at /notifications/files/
# while DEBUG is on, so a task link opens with one click); SMTP in production (EMAIL_URL).
# An empty EMAIL_URL (Compose's unset `${VAR}`) is unset here; production refuses it.
EMAIL_CONFIG = env.email_url_config(env.str("EMAIL_URL", default="").strip() or "filemail://")
vars().update(EMAIL_CONFIG)
EMAIL_FILE_PATH = EMAIL_CONFIG.get("EMAIL_FILE_PATH") or str(VAR_DIR / "emails")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PolicyFlow <policyflow@localhost>")
# A hung SMTP server must never block a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Redis down must not take pages down: a cache that does not answer is a miss (policyflow.cache).
CACHES = {"default": cache_config(env.str("CACHE_URL", default="locmemcache://"))}

# Celery. Without CELERY_BROKER_URL an embedded file-system broker is used, so `make run`
# needs nothing but Python. Production and tests use Redis.
# (A host name in the URL, which the transport ignores, spares a warning on every start.)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost//")
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
        # The broadcast (pidbox) exchange's table: kombu's default is ./control, i.e. the
        # project root.
        control_folder=str(VAR_DIR / "celery-control"),
    )
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the worker's database connection before and after every task
# unless this is set: a new PostgreSQL connection (a backend forked, its catalog caches cold)
# for each email a step queued. A connection now serves up to this many tasks;
# `policyflow.celery` checks it before and after each task as Django does around a request
# (CONN_MAX_AGE: kept only in production, CONN_HEALTH_CHECKS) and drops it after a failed one.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
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
    # The daily digest, for the users who chose one email a day instead of one per event.
    "notifications-daily-digest": {
        "task": "notifications.send_daily_digests",
        "schedule": crontab(hour=6, minute=30),
    },
    # The outbox sweep: re-enqueues notifications a broker outage or a dead worker left queued.
    "notifications-sweep-outbox": {
        "task": "notifications.sweep_outbox",
        "schedule": env.float("NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
    # A checkpoint of every municipality's audit chain (docs/audit.md).
    "audit-take-checkpoint": {
        "task": "audit.take_checkpoint",
        "schedule": 60.0 * env.float("AUDIT_CHECKPOINT_MINUTES", default=10.0),
    },
    # Export jobs: publish again what a broker outage lost; delete files past EXPORTS_KEEP_DAYS.
    "exports-sweep": {"task": "exports.sweep", "schedule": 60.0},
    # Re-compute the audit chains every night from the last verified checkpoint, and all of them
    # every Sunday; alerts the steering group when broken.
    "audit-verify-chain": {
        "task": "audit.verify_chain",
        "schedule": crontab(hour=2, minute=30, day_of_week="mon-sat"),
    },
    "audit-verify-chain-full": {
        "task": "audit.verify_chain",
        "schedule": crontab(hour=2, minute=30, day_of_week="sun"),
        "kwargs": {"full": True},
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

# The audit trail's CSV export job (exports.parts): made in this many processes at once, each
# over about as many events, when each gets at least EXPORTS_CSV_PART_ROWS of them (1: every
# export in the job's own process; the file is the same).
EXPORTS_CSV_PROCESSES = env.int("EXPORTS_CSV_PROCESSES", default=2)
EXPORTS_CSV_PART_ROWS = env.int("EXPORTS_CSV_PART_ROWS", default=50_000)

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
# The language cookie: no script reads it, and it is sent on same-site requests and top-level
# navigation only (production adds Secure).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Sign-in throttling (django-axes; README, Security). After AXES_FAILURE_LIMIT failed sign-ins
# for one account name, that name is locked for AXES_COOLOFF_MINUTES (axes' own default is
# forever). By account name, not address: behind the reverse proxy every request comes from the
# proxy's address, and guessing one account's password from many addresses must be throttled
# too. An administrator lifts a lock in the admin (Access attempts) or with `manage.py axes_reset`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address among the parameters, against locks that a changed browser or
# cookie gets around; a lock by account name is not one of those.
# models.W040 says SQLite ignores an index's non-key columns (`Index.include`): they are
# PostgreSQL's, for its index-only scans; on the embedded SQLite default the same indexes on their
# key columns are the intent, and the quick start's `migrate` printed the warning every time.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "policyflow.signin.lockout_response"
# Successful sign-ins are not logged with address and browser (data minimisation): Django's
# last_login says when, and failed attempts are kept only until their cool-off ends.
AXES_DISABLE_ACCESS_LOG = True

# PolicyFlow's own settings.
POLICYFLOW = {
    # Days a municipal contact's task link stays valid.
    "TASK_LINK_DAYS": env.int("TASK_LINK_DAYS", default=30),
    # The project's one contact address: every page's footer, the accessibility statement and
    # the dead-link page show it (the `support_email` template tag).
    "SUPPORT_EMAIL": env("SUPPORT_EMAIL", default="policyflow@regionkronoberg.se"),
    # Approval reminders: N days after the request, and M days before the links expire.
    "APPROVAL_REMINDER_AFTER_DAYS": env.int("APPROVAL_REMINDER_AFTER_DAYS", default=7),
    "APPROVAL_REMINDER_BEFORE_EXPIRY_DAYS": env.int(
        "APPROVAL_REMINDER_BEFORE_EXPIRY_DAYS", default=5
    ),
    # The project period the follow-up offers as a whole (followup.periods), ISO dates.
    "PROJECT_START": datetime.date.fromisoformat(env("PROJECT_START", default="2025-01-01")),
    "PROJECT_END": datetime.date.fromisoformat(env("PROJECT_END", default="2027-12-31")),
}

# The read-only JSON API (README "The API"): token or session sign-in, the pages' read
# permission, cursor pages, JSON only (no browsable API: its pages need inline script).
REST_FRAMEWORK = {
    # The token scheme first: an unsigned request then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "interfaces.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["interfaces.access.MayReadTheRecord"],
    "DEFAULT_PAGINATION_CLASS": "interfaces.access.Cursor",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PolicyFlow API",
    "DESCRIPTION": (
        "Read-only access to the record of the municipal ASF policies: counties, "
        "municipalities, policy processes, decisions, the audit trail, the ASF register, "
        "knowledge-spreading activities and the collaboration organisations, each limited to "
        "the counties the token's user may read."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is public (it holds no data); the data needs a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
}

# Audit trail (docs/audit.md). The HMAC key of the hash chain: set it in production and keep it
# as long as the record (verification needs it); empty derives one from SECRET_KEY (local use).
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default="")
AUDIT_READ_PERMISSION = "workflows.view_policyprocess"
AUDIT_ALERT_PERMISSION = "workflows.follow_policyprocess"
# The audit trail of a reader's counties only (municipalities.scoping: roles per county).
AUDIT_COUNTY_SCOPE = "municipalities.scoping.audit_county_codes"
# A reader's pages show their counties only: a write in another county leaves them in the cache.
PAGE_CACHE_SCOPE = "municipalities.scoping.visible_county_codes"
# The delivery log of the counties a leader leads (the emails name contact persons).
NOTIFICATIONS_LOG_SCOPE = "workflows.notify.log_scope"
# Seconds the overview, inbox, process page and timelines keep their rendered content at most:
# any write shows at once (audit.page_cache), so this bounds only what is not audited.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# The history tables' append-only triggers are installed after every migrate (they belong to
# other apps' tables, so they are not in migrations); simple-history's admin never reverts.
PGTRIGGER_MIGRATIONS = False
# On SQLite the audit app installs its own equivalent triggers after migrate (audit.sqlite):
# pgtrigger would only log "Installing … trigger" for each one and install nothing.
PGTRIGGER_INSTALL_ON_MIGRATE = not IS_SQLITE
SIMPLE_HISTORY_REVERT_DISABLED = True

_worker_task_log_level = "INFO" if CELERY_BROKER_URL.startswith("filesystem") else "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # django-axes logs every sign-in at INFO; a lockout is a WARNING.
        "axes": {"level": "WARNING"},
        # Celery logs each task's arrival and success at INFO: two lines per task message, for
        # mail one per step, ~0.3 ms of the worker's CPU a message (formatted and written, against
        # ~10 ms the email costs). The delivery log records every email; a failed task is still
        # logged (ERROR), and our own modules' INFO lines (retries, sweeps) are not these.
        # The local worker on the embedded broker (`make run`) keeps them: there they show each
        # task as it runs, and cost nothing that counts.
        **{
            name: {"level": env("WORKER_TASK_LOG_LEVEL", default=_worker_task_log_level)}
            for name in ("celery.worker.strategy", "celery.app.trace")
        },
    },
}
