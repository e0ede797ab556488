"""The collaboration organisation (samverkansorganisation, aim 2 of the project): the ASF that
are its members, its meetings and the milestones of its forming."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = _("Collaboration organisation")

    def ready(self) -> None:
        from . import audit_events

        audit_events.register()  # what our records mean in the audit timeline
