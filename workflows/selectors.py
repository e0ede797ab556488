"""Every read a workflow page needs, with a number of queries that does not grow with the data."""

import datetime
from dataclasses import dataclass

from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Prefetch, QuerySet, When
from django.db.models import Value as V
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from .flows import PolicyAdoptionFlow
from .models import (
    CLOSED_STAGES,
    ApprovalAnswer,
    Decision,
    FirstContact,
    Meeting,
    PolicyDraft,
    PolicyProcess,
)

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)

# Days a step may take before it is due; sorts the inbox most urgent first.
STEP_DAYS = {
    "contact": 14,
    "dialogue": 60,
    "draft": 21,
    "request_approval": 7,
    "approval": 21,
    "decision": 90,
}


def _flow_task_ref(name: str):
    return getattr(PolicyAdoptionFlow, name)


def _due_expression():
    whens = [
        When(flow_task=_flow_task_ref(name), then=V(datetime.timedelta(days=days)))
        for name, days in STEP_DAYS.items()
    ]
    return ExpressionWrapper(
        F("created") + Case(*whens, default=V(datetime.timedelta(days=30))),
        output_field=DateTimeField(),
    )


def _open_tasks() -> QuerySet:
    return (
        Task.objects.filter(status__in=OPEN, process__flow_class=PolicyAdoptionFlow)
        .select_related("owner", "process__policyprocess__municipality__county")
        .annotate(due=_due_expression())
    )


def inbox_tasks(*, user) -> QuerySet:
    """Open steps a project leader can act on, most urgent (earliest due) first."""
    return _open_tasks().filter(flow_task_type="HUMAN").order_by("due", "pk")


def waiting_tasks() -> QuerySet:
    """Drafts waiting for the municipality's answer, with who was asked."""
    return (
        _open_tasks()
        .filter(flow_task=_flow_task_ref("approval"))
        .prefetch_related("process__policyprocess__approvers")
        .order_by("due", "pk")
    )


def process_list(*, county_code: str | None = None, only_open: bool = False) -> QuerySet:
    qs = PolicyProcess.objects.select_related("municipality__county", "lead").order_by(
        "municipality__name", "-created"
    )
    if county_code:
        qs = qs.filter(municipality__county__code=county_code)
    if only_open:
        qs = qs.exclude(stage__in=CLOSED_STAGES)
    return qs


def process_detail(*, pk: int) -> PolicyProcess:
    return (
        PolicyProcess.objects.select_related("municipality__county", "lead")
        .prefetch_related(
            "approvers",
            "first_contacts__contacts",
            "first_contacts__recorded_by",
            "meetings__recorded_by",
            Prefetch("drafts", queryset=PolicyDraft.objects.select_related("created_by")),
            "approval_answers__contact",
            "approval_answers__draft",
            "decisions__recorded_by",
        )
        .get(pk=pk)
    )


def process_steps(*, process: PolicyProcess) -> QuerySet:
    """Every step of the process so far, oldest first."""
    return (
        Task.objects.filter(process_id=process.pk).select_related("owner").order_by("created", "pk")
    )


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime.datetime
    who: object
    what: str
    why: str
    order: tuple


_CHANGE_KIND = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


def process_history(*, process: PolicyProcess) -> list:
    """The audit records of the process and of everything its steps wrote, newest first.

    One query per audited model, whatever the number of records.
    """
    sources = [
        (PolicyProcess.history, "process_ptr_id"),
        (Task.history, "process_id"),
        (FirstContact.history, "process_id"),
        (Meeting.history, "process_id"),
        (PolicyDraft.history, "process_id"),
        (ApprovalAnswer.history, "process_id"),
        (Decision.history, "process_id"),
    ]
    entries = []
    for manager, key in sources:
        label = manager.model.instance_type._meta.verbose_name
        for record in manager.filter(**{key: process.pk}).select_related("history_user"):
            entries.append(
                HistoryEntry(
                    when=record.history_date,
                    who=record.history_user,
                    what=f"{label} ({_CHANGE_KIND.get(record.history_type, '')})",
                    why=record.history_change_reason or "",
                    order=(record.history_date, record.history_id),
                )
            )
    return sorted(entries, key=lambda e: e.order, reverse=True)


def open_task_for(*, process: PolicyProcess):
    return _open_tasks().filter(process_id=process.pk).order_by("created").first()


def task_for_step(*, task_pk: int) -> Task:
    return (
        Task.objects.select_related("process", "owner")
        .filter(process__flow_class=PolicyAdoptionFlow)
        .get(pk=task_pk)
    )


def flow_chart_svg(*, process: PolicyProcess | None = None) -> str:
    """The BPMN-style chart viewflow draws of the flow, with a process's steps coloured in."""
    from viewflow.workflow import chart

    grid = chart.calc_layout_data(PolicyAdoptionFlow)
    if process is not None:
        chart.calc_cell_status(PolicyAdoptionFlow, grid, process.pk)
    return chart.grid_to_svg(grid)


def task_links_for(*, process: PolicyProcess) -> list:
    """The process's task links with their status, newest first (one query)."""
    from .models import TaskLink

    links = list(
        TaskLink.objects.filter(process_id=process.pk)
        .select_related("contact", "task", "draft", "revoked_by")
        .order_by("-created_at", "-pk")
    )
    for link in links:
        link.current_status = link.status(task_is_open=link.task.status in OPEN)
    return links


def last_seen_draft(*, link):
    """The latest earlier draft version this link's contact opened, to show what changed."""
    from .models import TaskLink

    seen = (
        TaskLink.objects.filter(
            process_id=link.process_id,
            contact_id=link.contact_id,
            first_opened_at__isnull=False,
            draft__version__lt=link.draft.version,
        )
        .select_related("draft")
        .order_by("-draft__version")
        .first()
    )
    return seen.draft if seen else None
