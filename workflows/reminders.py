"""Reminders and stall alerts, run by Celery beat (workflows.tasks).

An approval reminder goes out N days after the request and again M days before the links
expire (POLICYFLOW settings). Only a hash of each link's token is stored, so a reminder carries
a fresh link for every contact still asked and the earlier links stop working; the email says so.
A process stays in a stage longer than its StageLimit: the project leader is told once per stage
entry, and the steering group gets a weekly digest.
"""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from notifications.models import Event, Notification
from notifications.outbox import make_idempotency_key

from . import notify
from .flows import PolicyAdoptionFlow
from .models import CLOSED_STAGES, PolicyProcess, TaskLink
from .services import OPEN_TASK_STATUSES
from .stage_limits import past_limit, stage_limits
from .task_links import issue_links

AFTER = "after"
BEFORE_EXPIRY = "before_expiry"


def _reminded(task: Task, kind: str, links: list[TaskLink]) -> bool:
    """Whether this kind of reminder of ``task`` went out: the outbox holds one under the key
    it would have now for one of the contacts (the outbox composes, and may shorten, the key)."""
    keys = [
        make_idempotency_key(
            event=Event.APPROVAL_REMINDER,
            key=notify.reminder_key(task.pk, kind),
            recipient_email=link.contact.email,
        )
        for link in links
    ]
    return Notification.objects.filter(idempotency_key__in=keys).exists()


def _live_links(task: Task, now) -> list[TaskLink]:
    return list(
        TaskLink.objects.filter(
            task_id=task.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).select_related("contact")
    )


def send_approval_reminders(*, now: datetime.datetime | None = None) -> int:
    """Remind contacts of drafts still waiting; returns how many reminders were queued."""
    now = now or timezone.now()
    after = datetime.timedelta(days=settings.POLICYFLOW["APPROVAL_REMINDER_AFTER_DAYS"])
    before = datetime.timedelta(days=settings.POLICYFLOW["APPROVAL_REMINDER_BEFORE_EXPIRY_DAYS"])
    sent = 0
    waiting = Task.objects.filter(
        flow_task=PolicyAdoptionFlow.approval, status__in=OPEN_TASK_STATUSES
    ).order_by("pk")
    for task in waiting:
        with PolicyAdoptionFlow.lock(task.process_id):
            task.refresh_from_db()
            if task.status not in OPEN_TASK_STATUSES:
                continue
            links = _live_links(task, now)
            if not links:
                continue  # expired: the stall alert tells the project leader
            if now >= task.created + after and not _reminded(task, AFTER, links):
                kind = AFTER
            elif min(link.expires_at for link in links) - before <= now and not _reminded(
                task, BEFORE_EXPIRY, links
            ):
                kind = BEFORE_EXPIRY
            else:
                continue
            process = PolicyProcess.objects.select_related("municipality", "lead").get(
                pk=task.process_id
            )
            issued = issue_links(task=task, contacts=[link.contact for link in links], user=None)
            notify.approval_reminder(
                process, issued, kind=kind, requested_on=timezone.localdate(task.created)
            )
            sent += len(issued)
    return sent


def stalled_processes(*, now: datetime.datetime | None = None) -> list[tuple]:
    """Open processes past their stage limit: (process, days in stage, limit), oldest first."""
    now = now or timezone.now()
    limits = stage_limits()
    overdue = past_limit(limits, now)
    if overdue is None:
        return []
    processes = (
        PolicyProcess.objects.exclude(stage__in=CLOSED_STAGES)
        .filter(overdue)
        .select_related("municipality", "lead")
        .order_by("stage_entered_at")
    )
    return [(p, (now - p.stage_entered_at).days, limits[p.stage]) for p in processes]


def alert_stalled(*, now: datetime.datetime | None = None) -> int:
    """Tell each stalled process's project leader (once per stage entry)."""
    stalled = stalled_processes(now=now)
    for process, days, limit in stalled:
        notify.process_stalled(process, days_in_stage=days, limit_days=limit)
    return len(stalled)


def send_stalled_digest(*, now: datetime.datetime | None = None) -> int:
    """The steering group's weekly list of stalled municipalities (nothing when none is)."""
    now = now or timezone.now()
    stalled = stalled_processes(now=now)
    if not stalled:
        return 0
    year, week, _ = timezone.localdate(now).isocalendar()
    notify.stalled_digest(
        [
            {
                "municipality": p.municipality.name,
                "county_id": p.municipality.county_id,
                "stage": p.get_stage_display(),
                "days_in_stage": days,
                "stage_limit_days": limit,
                "process_url": reverse("workflows:process", args=[p.pk]),
            }
            for p, days, limit in stalled
        ],
        week=f"{year}-W{week:02d}",
    )
    return len(stalled)
