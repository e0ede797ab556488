"""Production settings: refuse to start without the secrets and hosts production needs."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, env, for_postgresql, for_sqlite

# An empty value counts as missing: Compose passes an unset `${VAR}` as an empty string.
# SITE_URL and EMAIL_URL too: base's defaults (a loopback URL in task links, emails written to
# files nobody reads) would fail silently in production; the same list Compose asks for.
for _required in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "SITE_URL", "EMAIL_URL"):
    if not env.str(_required, default="").strip():
        raise ImproperlyConfigured(f"Production needs the environment variable {_required}.")

SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": for_postgresql(for_sqlite(env.db("DATABASE_URL")))}
IS_SQLITE = DATABASES["default"].get("ENGINE") == "django.db.backends.sqlite3"
PGTRIGGER_INSTALL_ON_MIGRATE = not IS_SQLITE
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Persistent connections outlive a database restart: check them before each request reuses one.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEBUG = False

# TLS ends at the reverse proxy in front of gunicorn, which must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True

# The Docker image collects static files at build time (see Dockerfile). Static files keep
# base's CompressedStaticFilesStorage: the manifest storage refuses viewflow's bundled
# roboto-fontface.css, which references font files viewflow does not ship.
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# Django names the request path in its log lines; token-like segments are masked (policyflow.logs).
LOGGING = {
    **LOGGING,  # noqa: F405
    "filters": {"redact_tokens": {"()": "policyflow.logs.RedactTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
}
