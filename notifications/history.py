"""The words an outbox row's history record carries: who changed it and why."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Notification

REASON_MAX_LENGTH = 100


def stamp(notification: Notification, *, user=None, reason: str, **params) -> Notification:
    """Set the history record's user and reason for the next save of ``notification``.

    The stamp `workflows.audit` applies (notifications may not import workflows), through
    simple-history's documented `_history_user` and `_change_reason` attributes. Without a
    user, simple-history's middleware still records the request's user, if there is one.
    ``reason`` is a message id: the record's words are in the site's language (Swedish), as the
    audit trail writes its own, whether a request in English or a worker queued it.
    """
    if user is not None:
        notification._history_user = user
    with translation.override(settings.LANGUAGE_CODE):
        notification._change_reason = (_(reason) % params)[:REASON_MAX_LENGTH]
    return notification
