"""The ASF register: the county's work-integration social enterprises (arbetsintegrerande
sociala företag)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("ASF register")

    def ready(self) -> None:
        from . import audit_events

        audit_events.register()  # what the register's records mean in the audit timeline
