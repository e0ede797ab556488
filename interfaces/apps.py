"""Open interfaces: the read-only JSON API with its tokens, and the calendar feeds (ICS)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterfacesConfig(AppConfig):
    name = "interfaces"
    verbose_name = _("Open interfaces")

    def ready(self) -> None:
        from . import audit_events

        audit_events.register()  # token and feed changes read as such in the audit trail
