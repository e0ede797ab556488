"""Every read a workflow page needs, with a number of queries that does not grow with the data."""

import datetime
from dataclasses import dataclass

from django.db.models import (
    F,
    Prefetch,
    QuerySet,
)
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from municipalities import scoping

from .flows import PolicyAdoptionFlow
from .models import (
    CLOSED_STAGES,
    ApprovalAnswer,
    PolicyDraft,
    PolicyProcess,
)
from .stage_limits import due_expression

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def _flow_task_ref(name: str):
    return getattr(PolicyAdoptionFlow, name)


def _open_tasks() -> QuerySet:
    return (
        Task.objects.filter(status__in=OPEN, process__flow_class=PolicyAdoptionFlow)
        .select_related("owner", "process__policyprocess__municipality__county")
        .annotate(due=due_expression("process__policyprocess__"))
    )


def most_urgent_first(tasks: QuerySet) -> QuerySet:
    return tasks.order_by(F("due").asc(nulls_last=True), "pk")


def open_leader_steps() -> QuerySet:
    """Every open project-leader step (the flow's View nodes), with its owner, its process's
    municipality and county, and its due date."""
    return _open_tasks().filter(flow_task_type="HUMAN")


TASK_COUNTY = "process__policyprocess__municipality__county"


def inbox_tasks(*, user) -> QuerySet:
    """Open steps a project leader can act on (in the counties they lead), most urgent first."""
    tasks = _open_tasks().filter(flow_task_type="HUMAN")
    return most_urgent_first(scoping.scoped_for_leading(tasks, user, county_field=TASK_COUNTY))


def county_open_steps(*, user) -> QuerySet:
    """Open steps of the counties ``user`` reads (the steering group's view of the work)."""
    tasks = _open_tasks().filter(flow_task_type="HUMAN")
    return most_urgent_first(scoping.scoped(tasks, user, county_field=TASK_COUNTY))


def waiting_tasks(*, user) -> QuerySet:
    """Drafts waiting for the municipality's answer, with who was asked (contact persons: only
    in the counties whose personal data ``user`` may see)."""
    tasks = (
        _open_tasks()
        .filter(flow_task=_flow_task_ref("approval"))
        .prefetch_related("process__policyprocess__approvers")
    )
    return most_urgent_first(
        scoping.scoped_with_personal_data(tasks, user, county_field=TASK_COUNTY)
    )


def readable_process_county(*, pk: int, user) -> int | None:
    """The county id of process ``pk`` if ``user`` may open its page, else None (one query)."""
    qs = scoping.with_personal_data_joined(PolicyProcess.objects.filter(pk=pk), user)
    return qs.values_list("municipality__county_id", flat=True).first()


def process_list(*, county_code: str | None = None, only_open: bool = False, user=None) -> QuerySet:
    """Processes by municipality; of the counties ``user`` reads when a user is given."""
    qs = PolicyProcess.objects.select_related("municipality__county", "lead").order_by(
        "municipality__name", "-created"
    )
    if user is not None:
        qs = scoping.scoped(qs, user)
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
    who: str
    what: str
    why: str
    order: tuple


@dataclass(frozen=True)
class ProcessHistory:
    entries: list[HistoryEntry]  # newest first
    has_more: bool  # older entries exist beyond the page (the audit timeline has them all)


# The process page shows the latest entries; the process's audit timeline pages through the rest.
PROCESS_HISTORY_LIMIT = 20


def process_history(
    *, process: PolicyProcess, limit: int = PROCESS_HISTORY_LIMIT
) -> ProcessHistory:
    """The latest ``limit`` events of the process's audit trail, newest first, in the words of
    its timeline: what happened (kind and summary), who, why.

    One query whatever the length of the process's life (the audit trail's keyset page); the
    bookkeeping the timeline leaves out is left out here too.
    """
    from audit import selectors as audit
    from audit.personal import expand

    page = audit.timeline(process=process.pk, limit=limit)
    entries = [
        HistoryEntry(
            when=event.occurred_at,
            who=expand(event.actor_label, event.personal),
            what=f"{event.get_kind_display()}: {expand(event.summary, event.personal)}",
            why=expand(event.reason, event.personal),
            order=(event.occurred_at, event.id),
        )
        for event in page.events
    ]
    return ProcessHistory(entries, has_more=page.next_after_id is not None)


def open_task_at(*, process_id: int, nodes) -> Task | None:
    """The process's open task at one of ``nodes`` (flow nodes), if any."""
    return (
        Task.objects.filter(process_id=process_id, flow_task__in=list(nodes), status__in=OPEN)
        .order_by("-created")
        .first()
    )


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
    from .models import TaskLink, TaskLinkStatus

    links = list(
        TaskLink.objects.filter(process_id=process.pk)
        .select_related("contact", "task", "draft", "revoked_by")
        .order_by("-created_at", "-pk")
    )
    for link in links:
        link.current_status = link.status(task_is_open=link.task.status in OPEN)
        link.can_revoke = link.current_status in TaskLinkStatus.live()
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


def link_receipt(*, answer_pk) -> ApprovalAnswer | None:
    """The answer a contact just sent through a task link, for the receipt page."""
    if not isinstance(answer_pk, int):
        return None
    return (
        ApprovalAnswer.objects.select_related(
            "contact", "draft", "via_link__process__lead", "process__lead"
        )
        .filter(pk=answer_pk, via_link__isnull=False)
        .first()
    )


def answer_via_link(*, link) -> ApprovalAnswer | None:
    """The answer given through ``link``, if any (a link answers once)."""
    if link is None or link.used_at is None:
        return None
    return ApprovalAnswer.objects.filter(via_link_id=link.pk).first()
