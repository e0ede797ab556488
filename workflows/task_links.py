"""Task links: how a municipal contact without an account answers an approval task.

A link is bound to one approval task and one contact, expires (TASK_LINK_DAYS), is single-use
and can be revoked. Only the SHA-256 of its random token is stored. A GET never completes
anything (mail scanners open links); only the POST of the confirm form answers. The GET of the
emailed URL is recorded as a fetch (a scanner makes one too); the page shown in the browser
session that followed it is recorded as shown in a browser: most likely the contact's, but a
scanner that follows the redirect and keeps the cookie looks the same, so no more is claimed.

Locks are always taken in the same order, process row first and link row second, so a
project leader re-issuing links and a contact answering cannot deadlock.
"""

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from viewflow.workflow.models import Task

from municipalities.models import Contact

from . import notify
from .audit import site_reason, stamp
from .flows import PolicyAdoptionFlow
from .models import ApprovalAnswer, PolicyDraft, PolicyProcess, TaskLink, TaskLinkStatus
from .services import (
    OPEN_TASK_STATUSES,
    StepAlreadyDone,
    _county_of,
    _require_lead,
    answer_approval_locked,
    lock_process_of_step,
    open_approval_task,
)


class DeadLink(Exception):
    """The link cannot be used; ``reason`` says why (a TaskLinkStatus, or "unknown")."""

    def __init__(self, reason: str, link: TaskLink | None = None):
        super().__init__(reason)
        self.reason, self.link = reason, link


UNKNOWN = "unknown"


@dataclass(frozen=True)
class IssuedLink:
    """A new link and its URL. The URL holds the token: show it once, email it, never log it."""

    link: TaskLink
    url: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.POLICYFLOW["TASK_LINK_DAYS"])


def _url_for(token: str) -> str:
    # Built from the configured SITE_URL, never from a request's Host header.
    return f"{settings.SITE_URL}{reverse('workflows:link_open')}?{urlencode({'t': token})}"


def issue_links(
    *,
    task: Task,
    contacts: Iterable[Contact],
    user,
    process: PolicyProcess | None = None,
    draft: PolicyDraft | None = None,
) -> list[IssuedLink]:
    """Create one link per contact for an open approval task, revoking its older links.

    The caller holds the process lock (the request-approval step does). ``process`` and
    ``draft`` (its latest draft): the caller's, when it read them under that lock; read here
    otherwise.
    """
    if process is None:
        process = PolicyProcess.objects.get(pk=task.process_id)
    if draft is None:
        draft = process.drafts.order_by("-version").first()
    contacts = list(contacts)
    if any(c.municipality_id != process.municipality_id or not c.is_active for c in contacts):
        raise ValidationError(_("Links can only go to active contacts of this municipality."))
    now = timezone.now()
    for old in TaskLink.objects.select_for_update().filter(
        task_id=task.pk, used_at__isnull=True, revoked_at__isnull=True
    ):
        old.revoked_at, old.revoked_by = now, user
        old.revoke_reason = _("Replaced by a new link")
        stamp(old, user=user, reason=gettext_lazy("Task link replaced"))
        old.save()
    issued = []
    for contact in contacts:
        token = secrets.token_urlsafe(32)
        link = TaskLink(
            task=task,
            process=process,
            contact=contact,
            draft=draft,
            token_hash=hash_token(token),
            created_by=user,
            created_at=now,
            expires_at=now + link_lifetime(),
        )
        stamp(
            link,
            user=user,
            reason=site_reason(gettext_noop("Task link sent to %(name)s"), name=contact.name),
        )
        link.save()
        issued.append(IssuedLink(link=link, url=_url_for(token)))
    return issued


def reissue_link(*, process: PolicyProcess, contact: Contact, user) -> IssuedLink:
    """Send a fresh link to the same or another contact; every older link of the task dies."""
    _require_lead(user, process.municipality.county_id)
    with PolicyAdoptionFlow.lock(process.pk):
        task = open_approval_task(process)
        (issued,) = issue_links(task=task, contacts=[contact], user=user)
        process.approvers.add(contact)
        notify.approval_requested(process, [issued], sender=user)
    return issued


def revoke_link(*, link: TaskLink, user, reason: str) -> TaskLink:
    _require_lead(user, _county_of(link.process_id))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the link is revoked.")})
    with PolicyAdoptionFlow.lock(link.process_id):
        link = TaskLink.objects.select_for_update().get(pk=link.pk)
        if link.used_at or link.revoked_at:
            raise ValidationError(_("The link is no longer active."))
        link.revoked_at, link.revoked_by, link.revoke_reason = timezone.now(), user, reason
        stamp(link, user=user, reason=gettext_lazy("Task link revoked"))
        link.save()
    return link


def find_link(token_hash: str) -> TaskLink | None:
    return (
        TaskLink.objects.select_related("task", "contact", "process__municipality", "draft")
        .filter(token_hash=token_hash)
        .first()
    )


def check_alive(link: TaskLink | None) -> TaskLink:
    """Raise DeadLink unless the link can still answer its task."""
    if link is None:
        raise DeadLink(UNKNOWN)
    status = link.status(task_is_open=link.task.status in OPEN_TASK_STATUSES)
    if status not in TaskLinkStatus.live():
        raise DeadLink(status, link)
    return link


def fetch_link(*, token: str) -> TaskLink:
    """The GET of an emailed link: records the first fetch and nothing else.

    Not "opened by the contact": mail security scanners fetch links before the person reads
    the email. Whoever fetched it, the browser that follows the redirect shows the page."""
    link = check_alive(find_link(hash_token(token)))
    if link.first_fetched_at is None:
        _record_first(link, "first_fetched_at", gettext_lazy("Task link fetched"))
    return link


def link_shown(*, link: TaskLink) -> TaskLink:
    """The draft page was shown in the browser session that followed the link (the first time
    is recorded; later views change nothing). Usually the contact's browser, but not proven: a
    scanner that follows redirects and keeps cookies gets here too, so the event says "shown"."""
    if link.first_opened_at is None:
        _record_first(
            link,
            "first_opened_at",
            site_reason(
                gettext_noop("Task link to %(name)s shown in a browser"), name=link.contact.name
            ),
        )
    return link


def _record_first(link: TaskLink, field: str, reason) -> None:
    with transaction.atomic():
        # Only the link row: a contact's view never waits for a step holding the process lock.
        locked = TaskLink.objects.select_for_update().get(pk=link.pk)
        if getattr(locked, field) is not None:
            setattr(link, field, getattr(locked, field))
            return  # another request of the same moment recorded it
        now = timezone.now()
        setattr(locked, field, now)
        stamp(locked, reason=reason)
        locked.save(update_fields=[field])
        setattr(link, field, now)


def answer_via_link(*, token_hash: str, answer: str, comment: str = "") -> ApprovalAnswer:
    """The contact's confirmed answer (POST). Exactly one answer per link, whatever the races."""
    with transaction.atomic():
        # The flow's lock, taken by the query that loads the process for the answer and finds
        # it through the link (a link's process never changes); then the link row (only it:
        # of=self), read with its task and contact in one query.
        link_process = TaskLink.objects.filter(token_hash=token_hash).values("process_id")
        try:
            process = lock_process_of_step(Subquery(link_process[:1]))
        except PolicyProcess.DoesNotExist:
            raise DeadLink(UNKNOWN) from None
        link = (
            TaskLink.objects.select_related("task", "contact")
            .select_for_update(of=("self",))
            .get(token_hash=token_hash)
        )
        check_alive(link)
        try:
            record = answer_approval_locked(
                process=process,
                task=link.task,
                contact=link.contact,
                answer=answer,
                comment=comment,
                via_link=link,
            )
        except StepAlreadyDone as exc:
            raise DeadLink(TaskLinkStatus.CLOSED, link) from exc
        link.used_at = timezone.now()
        stamp(
            link,
            reason=site_reason(gettext_noop("Task link used by %(name)s"), name=link.contact.name),
        )
        link.save(update_fields=["used_at"])
    return record
