"""Settings of the app under benchmark: production's, plus the minimal reference view.

Only `python -m bench` points DJANGO_SETTINGS_MODULE here; production never mounts bench.urls.
"""

from policyflow.settings.production import *  # noqa: F403
from policyflow.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
BENCH = True
