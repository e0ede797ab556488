"""The public progress page: each county's municipalities and their adopted policies, no login."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public_progress"
    verbose_name = _("Public progress page")
