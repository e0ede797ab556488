"""What happens: the policy-adoption flow, its process data, drafts, approvals and decisions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Policy adoption")

    def ready(self) -> None:
        from simple_history import register
        from viewflow.workflow.models import Task

        from audit.history import OnceBuiltHistoryManager

        # Viewflow's Task carries who completed which step and when: audit it too.
        if not hasattr(Task, "history"):
            register(
                Task,
                app="workflows",
                table_name="workflows_historicaltask",
                history_manager=OnceBuiltHistoryManager,
            )

        from . import audit_events

        audit_events.register()  # what our records mean in the audit timeline

        from simple_history.signals import post_create_historical_record

        from . import stage_summary
        from .models import PolicyProcess

        # The overview's summary follows every history record of a process, in its transaction.
        post_create_historical_record.connect(
            stage_summary.on_history_record,
            sender=PolicyProcess.history.model,
            dispatch_uid="workflows.stage_summary",
        )
