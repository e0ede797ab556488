"""One email a day instead of one per event, for the users who choose it.

`notify` (in the workflow) asks `wants_digest` before it queues a message to a user with an
account; when they want a digest, `keep` stores the message's subject and link instead, and the
daily Celery beat task (`send_daily_digests`) queues one outbox email per user listing what was
kept. Contacts in the municipalities have no account and always get their task links at once.
"""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import DigestItem, EmailPreference, Event
from .outbox import queue_notification
from .rendering import render_notification


def wants_digest(user) -> bool:
    return EmailPreference.objects.filter(user_id=user.pk, daily_digest=True).exists()


def with_digest_choice(users: QuerySet) -> QuerySet:
    """``users`` with ``wants_digest`` (what `wants_digest` answers) read in the same query: one
    query for every recipient of a message instead of one each."""
    chosen = EmailPreference.objects.filter(user_id=OuterRef("pk"), daily_digest=True)
    return users.annotate(wants_digest=Exists(chosen))


def set_preference(*, user, daily_digest: bool) -> EmailPreference:
    """Save how ``user`` wants to be told (their own choice, from the preferences page)."""
    with transaction.atomic():
        preference, _created = EmailPreference.objects.select_for_update().get_or_create(user=user)
        if preference.daily_digest != daily_digest:
            preference.daily_digest = daily_digest
            preference._history_user = user
            preference._change_reason = str(_("Email preference changed"))
            preference.save()
    return preference


def keep(*, user, event: str, language: str, context: dict, key: str, url: str) -> DigestItem:
    """Keep an event's news for ``user``'s next digest (once per ``key``), in the words its own
    email would have had as subject."""
    subject, _text, _html = render_notification(
        event=event, language=language, recipient_name="", context=context
    )
    item, _created = DigestItem.objects.get_or_create(
        recipient=user, key=f"{event}:{key}", defaults={"subject": subject, "url": url}
    )
    return item


def send_daily_digests(*, today: datetime.date | None = None, language: str = "sv") -> int:
    """Queue one digest email per user with news kept; returns how many were queued."""
    from django.urls import reverse

    today = today or timezone.localdate()
    User = get_user_model()
    recipients = User.objects.filter(
        pk__in=DigestItem.objects.filter(digest__isnull=True).values("recipient_id")
    ).exclude(email="")
    queued = 0
    for user in recipients:
        with transaction.atomic():
            items = list(
                DigestItem.objects.select_for_update(skip_locked=True)
                .filter(recipient=user, digest__isnull=True)
                .order_by("created_at", "pk")
            )
            if not items:
                continue
            notification = queue_notification(
                event=Event.DAILY_DIGEST,
                recipient_email=user.email,
                recipient_name=user.get_full_name() or user.get_username(),
                language=language,
                context={
                    "items": [{"subject": i.subject, "item_url": i.url} for i in items],
                    "day": today,
                    "inbox_url": reverse("workflows:inbox"),
                },
                key=f"{user.pk}:{today.isoformat()}:{items[-1].pk}",
                topic=f"digest:{user.pk}",
            )
            DigestItem.objects.filter(pk__in=[i.pk for i in items]).update(digest=notification)
            queued += 1
    return queued
