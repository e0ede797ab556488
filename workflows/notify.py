"""What the workflow tells whom. Each function queues notifications inside the caller's
transaction (the outbox), so a message exists exactly when its step committed.

Project leaders and the steering group read Swedish (the UI's default); contacts get their
preferred language.
"""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from municipalities import scoping
from municipalities.models import Membership
from notifications import digest
from notifications.models import Event
from notifications.outbox import queue_notification, queue_notifications

from .models import ApprovalAnswer, Decision, PolicyProcess

STAFF_LANGUAGE = "sv"
STEERING_PERMISSION_CODENAME = "follow_policyprocess"


def topic_for(process: PolicyProcess) -> str:
    return f"process:{process.pk}"


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _tell_staff(
    user, event: str, *, context: dict, key: str, topic: str, wants_digest: bool | None = None
) -> None:
    """Queue a message to a project leader or steering-group member (in Swedish), or keep it for
    their daily digest when they chose one (``wants_digest``: their choice, when already read
    with them: `digest.with_digest_choice`)."""
    message = _staff_message(
        user, event, context=context, key=key, topic=topic, wants_digest=wants_digest
    )
    if message is not None:
        queue_notification(**message)


def _staff_message(
    user, event: str, *, context: dict, key: str, topic: str, wants_digest: bool | None = None
) -> dict | None:
    """What `_tell_staff` queues for ``user`` (`queue_notification`'s arguments), or None: no
    email address, or the news kept for their digest (done here)."""
    if not user.email:
        return None
    if wants_digest is None and event != Event.STALLED_DIGEST:
        wants_digest = digest.wants_digest(user)
    if event != Event.STALLED_DIGEST and wants_digest:
        url = next((context[k] for k in ("task_url", "process_url") if k in context), "")
        digest.keep(
            user=user, event=event, language=STAFF_LANGUAGE, context=context, key=key, url=url
        )
        return None
    return {
        "event": event,
        "recipient_email": user.email,
        "recipient_name": _name(user),
        "language": STAFF_LANGUAGE,
        "context": context,
        "key": key,
        "topic": topic,
    }


def _tell_contact(
    contact, event: str, *, context: dict, key: str, topic: str, sealed_context: dict
) -> None:
    """Queue a message to a municipal contact, in the contact's preferred language."""
    queue_notification(
        event=event,
        recipient_email=contact.email,
        recipient_name=contact.name,
        language=contact.language,
        context=context,
        sealed_context=sealed_context,
        key=key,
        topic=topic,
    )


def log_scope(user):
    """NOTIFICATIONS_LOG_SCOPE: the notifications of the processes of the counties ``user``
    leads (a superuser: every one). Digests to the steering group (topic "county") are not a
    county's: only superusers see them in the log."""
    if user.is_superuser:
        return None
    topics = (
        scoping.scoped_for_leading(PolicyProcess.objects.all(), user)
        .annotate(topic=Concat(Value("process:"), Cast("pk", CharField())))
        .values("topic")
    )
    return Q(topic__in=topics)


def steering_group(county=None):
    """Active users in the steering group of ``county`` (a County or its id; of any county when
    None), with an email address: a county's news goes to its own steering group only."""
    User = get_user_model()
    membership = {"county_memberships__role": Membership.Role.STEERING}
    if county is not None:
        membership["county_memberships__project__county"] = county
    return (
        User.objects.filter(is_active=True, **membership)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


_GATEWAYS = ("EXCLUSIVE_GATEWAY", "SWITCH")
_STEP_FIELDS = ("pk", "flow_task_type", "status", "owner_id")


def _step_before(task: Task) -> dict | None:
    """``task``'s previous task (its fields above), and under "before_…" that task's own previous
    one's, in one query: a step after a gateway (the answer's, the decision's) needs both. That
    one is joined, not read by a subquery per field: the same row, and the query takes about half
    the CPU to build."""
    joined = {f"before_{f}": F(f"previous__{f}") for f in _STEP_FIELDS}
    return task.previous.values(*_STEP_FIELDS, **joined).first()


def _opened_by(process: PolicyProcess, task: Task):
    """The user whose action opened ``task``: the owner of the step before it, through the
    flow's gateways; the process's leader for the first step (they started it); None when the
    municipality's answer or anything else opened it."""
    row = _step_before(task)
    previous = {f: row[f] for f in _STEP_FIELDS} if row else None
    if previous is not None and previous["flow_task_type"] in _GATEWAYS:
        before = {f: row[f"before_{f}"] for f in _STEP_FIELDS}
        previous = before if before["pk"] is not None else None
    while previous is not None and previous["flow_task_type"] in _GATEWAYS:
        previous = Task.objects.filter(leading=previous["pk"]).values(*_STEP_FIELDS).first()
    if previous is None:
        return None
    if previous["flow_task_type"] == "START":
        return process.lead_id
    # A step opened again (a voided decision revives its step) is news: it was done.
    is_completed_step = previous["flow_task_type"] == "HUMAN" and previous["status"] == STATUS.DONE
    return previous["owner_id"] if is_completed_step else None


def step_opened(process: PolicyProcess, task: Task) -> None:
    """Tell a project leader about a step someone or something else gave them (once per step).

    A step that follows one the same person just completed is not emailed: it is on their
    screen already (the next step's page opens) and in their task list.
    """
    if task.owner_id is None or _opened_by(process, task) == task.owner_id:
        return
    _tell_staff(
        task.owner,
        Event.TASK_ASSIGNED,
        context={
            "municipality": process.municipality.name,
            "task_title": task.flow_task.task_title,
            "task_url": reverse("workflows:step", args=[task.pk]),
        },
        key=f"task:{task.pk}",
        topic=topic_for(process),
    )


def _link_context(process, item, sender) -> dict:
    return {
        "municipality": process.municipality.name,
        "draft_version": item.link.draft.version,
        "link_expires": item.link.expires_at.date(),
        "sender_name": _name(sender) if sender else process.lead.get_full_name(),
    }


def _sealed_link(item) -> dict:
    # The URL holds the link's token: the outbox keeps it encrypted until the email is sent.
    return {"task_url": item.url}


def approval_requested(process: PolicyProcess, issued: list, *, sender) -> None:
    """Each contact gets their own task link."""
    for item in issued:
        _tell_contact(
            item.link.contact,
            Event.APPROVAL_REQUESTED,
            context=_link_context(process, item, sender),
            sealed_context=_sealed_link(item),
            key=f"link:{item.link.pk}",
            topic=topic_for(process),
        )


def reminder_key(task_pk: int, kind: str) -> str:
    """The occurrence of a reminder: one of each kind per approval step and contact."""
    return f"reminder:{task_pk}:{kind}"


def approval_reminder(process: PolicyProcess, issued: list, *, kind: str, requested_on) -> None:
    for item in issued:
        context = _link_context(process, item, process.lead)
        context.pop("sender_name")
        context["requested_on"] = requested_on
        _tell_contact(
            item.link.contact,
            Event.APPROVAL_REMINDER,
            context=context,
            sealed_context=_sealed_link(item),
            key=reminder_key(item.link.task_id, kind),
            topic=topic_for(process),
        )


def answer_received(answer: ApprovalAnswer) -> None:
    process = answer.process
    _tell_staff(
        process.lead,
        Event.ANSWER_RECEIVED,
        context={
            "municipality": process.municipality.name,
            "draft_version": answer.draft.version,
            "contact_name": answer.contact.name,
            "approved": answer.answer == "approved",
            "comment": answer.comment,
            "process_url": reverse("workflows:process", args=[process.pk]),
        },
        key=f"answer:{answer.pk}",
        topic=topic_for(process),
    )


def decision_recorded(decision: Decision) -> None:
    process = decision.process
    context = {
        "municipality": process.municipality.name,
        "body": decision.body_label,
        "meeting_date": decision.meeting_date,
        "paragraph": decision.paragraph,
        "case_number": decision.case_number,
        "outcome": decision.get_outcome_display(),
        "appeal_deadline": decision.appeal_deadline,
        "process_url": reverse("workflows:process", args=[process.pk]),
    }
    message = {"context": context, "key": f"decision:{decision.pk}", "topic": topic_for(process)}
    # The steering group's emails in one savepoint (`queue_notifications`), in the group's order:
    # a member who chose the digest gets the item kept in their turn.
    pending = []
    for user in digest.with_digest_choice(steering_group(process.municipality.county_id)):
        if user.wants_digest:
            queue_notifications(pending)
            pending = []
        told = _staff_message(
            user, Event.DECISION_RECORDED, **message, wants_digest=user.wants_digest
        )
        if told is not None:
            pending.append(told)
    queue_notifications(pending)


def process_stalled(process: PolicyProcess, *, days_in_stage: int, limit_days: int) -> None:
    _tell_staff(
        process.lead,
        Event.PROCESS_STALLED,
        context={
            "municipality": process.municipality.name,
            "stage": process.get_stage_display(),
            "days_in_stage": days_in_stage,
            "stage_limit_days": limit_days,
            "process_url": reverse("workflows:process", args=[process.pk]),
        },
        key=f"stalled:{process.pk}:{process.stage}:{process.stage_entered_at:%Y%m%d%H%M%S}",
        topic=topic_for(process),
    )


def stalled_digest(stalled: list[dict], *, week: str) -> None:
    """Each steering group member gets the stalled municipalities of their own counties (each
    item carries its ``county_id``); a member with none gets no digest."""
    counties_of = defaultdict(set)
    for user_id, county_id in Membership.objects.filter(role=Membership.Role.STEERING).values_list(
        "user_id", "project__county_id"
    ):
        counties_of[user_id].add(county_id)
    for user in steering_group():
        own = [item for item in stalled if item.get("county_id") in counties_of[user.pk]]
        if not own:
            continue
        _tell_staff(
            user,
            Event.STALLED_DIGEST,
            context={
                "stalled": own,
                "week": week,
                "overview_url": reverse("workflows:overview"),
            },
            key=f"digest:{week}",
            topic="county",
        )


def work_handed_over(handovers: list, *, by, note: str) -> None:
    """One email to the leader who was handed steps or processes (one action, one email)."""
    if not handovers:
        return
    to_user = handovers[0].to_user
    items = []
    for handover in handovers:
        process = handover.process
        if handover.task_id is None:
            title, url = _("The whole process"), reverse("workflows:process", args=[process.pk])
        else:
            title = handover.task.flow_task.task_title
            url = reverse("workflows:step", args=[handover.task_id])
        items.append({"municipality": process.municipality.name, "title": title, "item_url": url})
    processes = {h.process_id for h in handovers}
    _tell_staff(
        to_user,
        Event.WORK_HANDED_OVER,
        context={"by_name": _name(by), "items": items, "note": note},
        key=f"handover:{handovers[0].batch}",
        topic=topic_for(handovers[0].process) if len(processes) == 1 else "handover",
    )
