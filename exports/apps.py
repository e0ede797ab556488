"""Long exports as Celery jobs: the audit trail's CSV and archive, the follow-up reports (PDF)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from . import audit_events

        audit_events.register()  # what an export job's records mean in the audit timeline
