"""Every read a workflow page needs, with a number of queries that does not grow with the data."""

import datetime
from dataclasses import dataclass

from django.db.models import (
    F,
    Q,
    QuerySet,
)
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from municipalities import access, scoping
from municipalities.models import Contact

from . import stage_limits
from .flows import PolicyAdoptionFlow
from .models import (
    CLOSED_STAGES,
    ApprovalAnswer,
    Decision,
    FirstContact,
    Meeting,
    PolicyDraft,
    PolicyProcess,
    Stage,
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
    """Drafts waiting for the municipality's answer (contact persons are named: only in the
    counties whose personal data ``user`` may see), most urgent first, as tuples for
    `waiting_rows`: the list shows a few plain values of each, so no task, process,
    municipality or county object is built for it."""
    tasks = Task.objects.filter(
        status__in=OPEN,
        process__flow_class=PolicyAdoptionFlow,
        flow_task=_flow_task_ref("approval"),
    ).annotate(due=due_expression("process__policyprocess__"))
    return most_urgent_first(
        scoping.scoped_with_personal_data(tasks, user, county_field=TASK_COUNTY)
    ).values_list("process_id", "process__policyprocess__municipality__name", "due")


@dataclass(frozen=True)
class WaitingRow:
    """A draft waiting for the municipality's answer, as the task list shows it."""

    process_id: int
    municipality: str
    due: datetime.datetime | None
    approvers: list[str]


def waiting_rows(rows) -> list[WaitingRow]:
    """``rows`` of `waiting_tasks` (a page of them) with the names of the contact persons each
    draft waits for, by name (one query for the page)."""
    rows = list(rows)
    names: dict[int, list[str]] = {process_id: [] for process_id, _name, _due in rows}
    if names:
        approvers = PolicyProcess.approvers.through.objects.filter(policyprocess_id__in=names)
        # In the contacts' own order (`Contact.Meta.ordering`), as `process.approvers.all()`.
        order = [
            f"-contact__{field[1:]}" if field.startswith("-") else f"contact__{field}"
            for field in Contact._meta.ordering
        ]
        for process_id, name in approvers.order_by(*order).values_list(
            "policyprocess_id", "contact__name"
        ):
            names[process_id].append(name)
    return [WaitingRow(pk, municipality, due, names[pk]) for pk, municipality, due in rows]


@dataclass(frozen=True)
class ProcessAccess:
    county_id: int
    can_lead: bool


def readable_process_access(*, pk: int, user) -> ProcessAccess | None:
    """Whether ``user`` may open the page of process ``pk`` (None: not), with its county and
    whether they lead it: the process's county (a query by primary key, then kept in the cache
    with the county structure's version) and the user's roles (kept in the cache between
    requests), both from `municipalities.access`."""
    county_id = access.county_fact(
        f"process-county:{pk}",
        lambda: (
            PolicyProcess.objects.filter(pk=pk)
            .values_list("municipality__county_id", flat=True)
            .first()
        ),
    )
    if county_id is None or not scoping.can_see_personal_data(user, county_id):
        return None
    return ProcessAccess(county_id, scoping.can_lead(user, county_id))


def by_municipality(rows: QuerySet, text: str, *, path: str = "") -> QuerySet:
    """``rows`` whose municipality's name or code contains ``text`` (the lists' search field);
    ``path`` leads from a row to its PolicyProcess (e.g. "process__policyprocess__")."""
    text = text.strip()
    if not text:
        return rows
    return rows.filter(
        Q(**{f"{path}municipality__name__icontains": text})
        | Q(**{f"{path}municipality__code__startswith": text})
    )


def process_list(
    *,
    county_code: str | None = None,
    only_open: bool = False,
    search: str = "",
    stage: str = "",
    user=None,
) -> QuerySet:
    """Processes by municipality; of the counties ``user`` reads when a user is given."""
    qs = PolicyProcess.objects.select_related("municipality__county", "lead").order_by(
        "municipality__name", "-created"
    )
    if user is not None:
        qs = scoping.scoped(qs, user)
    qs = by_municipality(qs, search)
    if stage in Stage.values:
        qs = qs.filter(stage=stage)
    if county_code:
        qs = qs.filter(municipality__county__code=county_code)
    if only_open:
        qs = qs.exclude(stage__in=CLOSED_STAGES)
    return qs


# A draft's text: the process page lists versions by number, date and change note only.
DRAFT_TEXT = ("competition_section", "customer_section", "other_text")


# What the process page reads of its process: not viewflow's columns (its data, seed, artifact)
# nor its project leader's password hash and dates. The query-count tests fail when the page
# starts reading another field (a deferred field is one more query).
PROCESS_FIELDS = (
    "stage",
    "stage_entered_at",
    "municipality__code",
    "municipality__name",
    "municipality__county__code",
    "municipality__county__name",
    "lead__username",
    "lead__first_name",
    "lead__last_name",
)


def process_detail(*, pk: int) -> PolicyProcess:
    """The process, its municipality, county and project leader (one query; what its page
    lists is read by `process_records`, the approvers only while the municipality is asked,
    by `process_summary`)."""
    return (
        PolicyProcess.objects.select_related("municipality__county", "lead")
        .only(*PROCESS_FIELDS)
        .get(pk=pk)
    )


@dataclass(frozen=True)
class ProcessRecords:
    """What the process page lists, newest first in each list: the drafts without their text,
    and no one who recorded a row (the page does not name them)."""

    first_contacts: list[FirstContact]  # with their contact persons' names (`contact_names`)
    meetings: list[Meeting]
    drafts: list[PolicyDraft]
    answers: list[ApprovalAnswer]  # with their contact person, and their draft from `drafts`
    decisions: list[Decision]


def first_contacts_with_names(*, process_id: int) -> list[FirstContact]:
    """The process's first contacts (in their model's order), each with the names of its
    contact persons as ``contact_names`` (in the order ``first_contact.contacts.all()`` lists
    them): one query, a row per contact person (a first contact without any: one row, no name),
    where a prefetch of the contacts took a second query and twice the Python."""
    # `Contact` is ordered by municipality, then name: a first contact's contact persons are of
    # its process's municipality (`services.record_first_contact` checks), so by name alone,
    # without joining the municipalities (a third of the statement's planning).
    rows = (
        FirstContact.objects.filter(process_id=process_id)
        .annotate(contact_name=F("contacts__name"))
        .order_by("recorded_at", "pk", "contacts__name")
    )
    by_pk: dict[int, FirstContact] = {}
    for row in rows:
        first_contact = by_pk.setdefault(row.pk, row)
        if first_contact is row:
            row.contact_names = []
        if row.contact_name is not None:  # None: the left join found no contact person
            first_contact.contact_names.append(row.contact_name)
    return list(by_pk.values())


# What the page shows of an answer (its draft is taken from the drafts' list) and of a meeting:
# not who recorded them, nor the answering contact person's row beyond the name.
ANSWER_FIELDS = ("draft", "answer", "comment", "answered_at", "contact__name")
MEETING_FIELDS = ("held_on", "participants", "notes", "is_voided", "voided_reason")


def process_records(*, process: PolicyProcess) -> ProcessRecords:
    """The process's records as its page lists them: one query per list (the first contacts'
    with their contact persons' names), read directly rather than prefetched onto the process
    (a prefetch costs a third more of Python for the same query)."""
    pk = process.pk
    drafts = list(PolicyDraft.objects.filter(process_id=pk).defer(*DRAFT_TEXT).order_by("-version"))
    by_pk = {draft.pk: draft for draft in drafts}
    answers = list(
        ApprovalAnswer.objects.filter(process_id=pk)
        .select_related("contact")
        .only(*ANSWER_FIELDS)
        .order_by("-answered_at")
    )
    for answer in answers:
        if answer.draft_id in by_pk:  # always: an answer is to a draft of its process
            answer.draft = by_pk[answer.draft_id]
    return ProcessRecords(
        first_contacts=first_contacts_with_names(process_id=pk),
        meetings=list(
            Meeting.objects.filter(process_id=pk)
            .only(*MEETING_FIELDS)
            .order_by("-held_on", "-recorded_at")
        ),
        drafts=drafts,
        answers=answers,
        decisions=list(Decision.objects.filter(process_id=pk).order_by("-recorded_at")),
    )


@dataclass(frozen=True)
class FlowStep:
    """One step of the process's main path, as the page's vertical list of steps shows it."""

    name: str
    title: str
    state: str  # "done", "current" or "later"


@dataclass(frozen=True)
class ProcessSummary:
    """The process page's summary card: where it stands, since when, until when, who holds it
    and the one thing to do next."""

    days_in_stage: int
    due_on: datetime.date | None
    is_overdue: bool
    holder: str
    next_step: str | None  # the open step's node name (None when closed)
    flow: list[FlowStep]
    # Who is asked to approve the draft, while the approval step is open.
    approver_names: tuple[str, ...] = ()


# The path a process takes when nothing goes back: the list of steps on the process page.
MAIN_PATH = ("contact", "dialogue", "draft", "request_approval", "approval", "decision", "end")


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def process_summary(*, process: PolicyProcess, open_task: Task | None, now=None) -> ProcessSummary:
    """The summary card of the process page, from the process and its open step (already
    read). While a step is open, one query for the stage limits (the due day, `stage_limits`)
    and, while the municipality is asked, one for the approvers."""
    from django.utils import timezone

    now = now or timezone.now()
    current = open_task.flow_task.name if open_task is not None else None
    approvers: tuple[str, ...] = ()
    if open_task is None:
        holder = "–"
    elif current == "approval":
        approvers = tuple(contact.name for contact in process.approvers.all())
        holder = ", ".join(approvers) or "–"
    elif open_task.owner_id is not None:
        holder = _person(open_task.owner)
    else:
        holder = _person(process.lead)
    # The stage's due day, by the one rule (`stage_limits`), shown while a step is open.
    due = None
    if open_task is not None:
        due = stage_limits.due_at(
            process.stage, process.stage_entered_at, stage_limits.stage_limits()
        )
    position = MAIN_PATH.index(current) if current in MAIN_PATH else len(MAIN_PATH) - 1
    flow = [
        FlowStep(
            name=name,
            title=str(getattr(PolicyAdoptionFlow, name).task_title),
            state="done"
            if index < position or (current is None and process.stage in CLOSED_STAGES)
            else "current"
            if index == position
            else "later",
        )
        for index, name in enumerate(MAIN_PATH)
    ]
    return ProcessSummary(
        days_in_stage=max((now - process.stage_entered_at).days, 0),
        due_on=timezone.localdate(due) if due else None,
        is_overdue=bool(due and now > due),
        holder=holder,
        next_step=current,
        flow=flow,
        approver_names=approvers,
    )


# What the process page reads of its steps (`step_rows`, the open step's card, the task links'
# statuses) and of who did them (a name): not a step's data, seed and artifact, nor its owner's
# password hash and dates. A query-count test per stage of the flow fails when the page starts
# reading another field (a deferred field is one query per step).
STEP_FIELDS = ("flow_task", "flow_task_type", "status", "created", "finished", "process_id")
STEP_OWNER_FIELDS = ("owner__username", "owner__first_name", "owner__last_name")


def process_steps(*, process: PolicyProcess) -> list[Task]:
    """Every step of the process so far, oldest first, with who did it: the process page finds
    its open step among them (`open_step`; its due day is in `process_summary`). Only the
    fields the page shows (``STEP_FIELDS``): ~0.3 ms less of Python on a 17-step process."""
    return list(
        Task.objects.filter(process_id=process.pk)
        .select_related("owner")
        .only(*STEP_FIELDS, *STEP_OWNER_FIELDS)
        .order_by("created", "pk")
    )


def open_step(steps: list[Task]) -> Task | None:
    """The first open one of a process's ``steps`` (`process_steps`): `open_task_for` without
    a query of its own."""
    return next((task for task in steps if task.status in OPEN), None)


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
# What an entry reads of its event (not its changes: a draft's texts are in them).
HISTORY_FIELDS = ("id", "occurred_at", "kind", "actor_label", "summary", "reason", "personal")


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

    page = audit.timeline(process=process.pk, limit=limit, fields=HISTORY_FIELDS)
    entries = [
        HistoryEntry(
            when=event.occurred_at,
            who=expand(event.actor_label, event.personal),
            what=f"{audit.kind_label(event.kind)}: {expand(event.summary, event.personal)}",
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


def task_links_for(
    *, process: PolicyProcess, steps: list[Task] | None = None, drafts: list | None = None
) -> list:
    """The process's task links with their status, newest first (one query). Each link's step
    and draft are taken from ``steps`` (`process_steps`) and ``drafts`` (`process_records`),
    when the caller has them, instead of joined again."""
    from .models import TaskLink, TaskLinkStatus

    links = TaskLink.objects.filter(process_id=process.pk).order_by("-created_at", "-pk")
    if steps is None or drafts is None:
        links = links.select_related("contact", "task", "draft").defer(
            *(f"draft__{name}" for name in DRAFT_TEXT)
        )
        statuses, by_pk = {}, {}
    else:
        links = links.select_related("contact")
        statuses = {task.pk: task.status for task in steps}
        by_pk = {draft.pk: draft for draft in drafts}
    links = list(links)
    for link in links:
        if link.draft_id in by_pk:
            link.draft = by_pk[link.draft_id]
        status = statuses.get(link.task_id)
        if status is None:  # a step the caller did not give: read with the link
            status = link.task.status
        link.current_status = link.status(task_is_open=status in OPEN)
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


@dataclass(frozen=True)
class DraftComparison:
    older: PolicyDraft
    newer: PolicyDraft
    sections: list


def draft_versions(*, process_id: int) -> list[int]:
    """Every version number of a process's drafts, oldest first (one query)."""
    return list(
        PolicyDraft.objects.filter(process_id=process_id)
        .order_by("version")
        .values_list("version", flat=True)
    )


def draft_comparison(*, draft: PolicyDraft, other_version: int) -> DraftComparison | None:
    """``draft`` compared with another version of the same process, older one first (None when
    there is no such other version)."""
    from .diff import draft_diff

    if other_version == draft.version:
        return None
    other = PolicyDraft.objects.filter(process_id=draft.process_id, version=other_version).first()
    if other is None:
        return None
    older, newer = sorted((other, draft), key=lambda d: d.version)
    return DraftComparison(older=older, newer=newer, sections=draft_diff(older, newer))
