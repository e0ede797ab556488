"""What the workflow tells whom. Each function queues notifications inside the caller's
transaction (the outbox), so a message exists exactly when its step committed.

Project leaders and the steering group read Swedish (the UI's default); contacts get their
preferred language.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications import digest
from notifications.models import Event
from notifications.services import queue_notification

from .models import ApprovalAnswer, Decision, PolicyProcess

STAFF_LANGUAGE = "sv"
STEERING_PERMISSION_CODENAME = "follow_policyprocess"


def topic_for(process: PolicyProcess) -> str:
    return f"process:{process.pk}"


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _tell_staff(user, event: str, *, context: dict, key: str, topic: str) -> None:
    """Queue a message to a project leader or steering-group member (in Swedish), or keep it for
    their daily digest when they chose one."""
    if not user.email:
        return
    if event != Event.STALLED_DIGEST and digest.wants_digest(user):
        url = next((context[k] for k in ("task_url", "process_url") if k in context), "")
        digest.keep(
            user=user, event=event, language=STAFF_LANGUAGE, context=context, key=key, url=url
        )
        return
    queue_notification(
        event=event,
        recipient_email=user.email,
        recipient_name=_name(user),
        language=STAFF_LANGUAGE,
        context=context,
        key=key,
        topic=topic,
    )


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


def steering_group():
    """Active users who follow the processes (the steering group), with an email address."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(groups__permissions__codename=STEERING_PERMISSION_CODENAME)
        .distinct()
        .order_by("pk")
    )


def _opened_by(process: PolicyProcess, task: Task):
    """The user whose action opened ``task``: the owner of the step before it, through the
    flow's gateways; the process's leader for the first step (they started it); None when the
    municipality's answer or anything else opened it."""
    previous = task.previous.select_related("owner").first()
    while previous is not None and previous.flow_task_type in ("EXCLUSIVE_GATEWAY", "SWITCH"):
        previous = previous.previous.select_related("owner").first()
    if previous is None:
        return None
    if previous.flow_task_type == "START":
        return process.lead_id
    # A step opened again (a voided decision revives its step) is news: it was done.
    is_completed_step = previous.flow_task_type == "HUMAN" and previous.status == STATUS.DONE
    return previous.owner_id if is_completed_step else None


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
    for user in steering_group():
        _tell_staff(
            user,
            Event.DECISION_RECORDED,
            context={
                "municipality": process.municipality.name,
                "body": decision.body_label,
                "meeting_date": decision.meeting_date,
                "paragraph": decision.paragraph,
                "case_number": decision.case_number,
                "outcome": decision.get_outcome_display(),
                "appeal_deadline": decision.appeal_deadline,
                "process_url": reverse("workflows:process", args=[process.pk]),
            },
            key=f"decision:{decision.pk}",
            topic=topic_for(process),
        )


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
    for user in steering_group():
        _tell_staff(
            user,
            Event.STALLED_DIGEST,
            context={
                "stalled": stalled,
                "week": week,
                "overview_url": reverse("workflows:overview"),
            },
            key=f"digest:{week}",
            topic="county",
        )
