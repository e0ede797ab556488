"""Knowledge spreading (aim 1 of the project): activities and the audience they reached."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("Knowledge spreading")

    def ready(self) -> None:
        from . import audit_events

        audit_events.register()  # what our records mean in the audit timeline
