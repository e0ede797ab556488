"""WSGI entry point (gunicorn policyflow.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyflow.settings.production")

application = get_wsgi_application()
