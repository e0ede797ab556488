# PolicyFlow's one image: the web server, the Celery worker and Celery beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=policyflow.settings.production \
    MEDIA_ROOT=/var/lib/policyflow/media

# gettext compiles the translation catalogues; pango is what WeasyPrint needs for PDF reports.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# The same uv as the Makefile's, so the lock file means the same thing here.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8

WORKDIR /app

# Dependencies first, exactly as locked and without the dev group (tests, linters, honcho):
# this layer is rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project --no-cache

COPY . .

# Translations and static files are part of the release, built once here. The settings need
# values to import; these build-time ones are never part of the image's environment.
RUN DJANGO_SETTINGS_MODULE=policyflow.settings.base python manage.py compilemessages -v0 \
    && SECRET_KEY=collectstatic-at-build-time ALLOWED_HOSTS=localhost DATABASE_URL=sqlite://:memory: \
       SITE_URL=http://localhost EMAIL_URL=dummymail:// \
       python manage.py collectstatic --noinput -v0 --ignore "viewflow/*"

# Run as an unprivileged user that owns only what it writes: uploaded files, beat's schedule.
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin policyflow \
    && mkdir -p /var/lib/policyflow/media /app/var \
    && chown policyflow:policyflow /var/lib/policyflow/media /app/var
USER policyflow

EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "policyflow.wsgi"]
