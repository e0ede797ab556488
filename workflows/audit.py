"""Who did it and why: attach the actor and the reason to what django-simple-history records."""

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext

REASON_MAX_LENGTH = 100


def _render(message: str, params: dict) -> str:
    text = gettext(message)
    return text % {name: str(value) for name, value in params.items()} if params else text


_lazy_render = lazy(_render, str)


def site_reason(message: str, **params) -> Promise:
    """A reason for the record, translated when it is stamped, in the site's language.

    ``message`` is a message id (English source); ``params`` fill its ``%(name)s`` places and
    may be lazy too (a choice's label), so they are read in that language as well.
    """
    return _lazy_render(message, params)


def stamp(obj: Any, *, user: Any = None, reason: str | Promise) -> Any:
    """Mark the next save of ``obj`` in the history with its actor and reason.

    The record's words are in the site's language (Swedish), as the audit trail writes its
    summaries, whatever language the request that wrote them asked for: a lazy ``reason``
    (`gettext_lazy`, `site_reason`) is translated here, in that language. A plain string (a
    person's own words) is kept as written.
    """
    obj._history_user = user
    with translation.override(settings.LANGUAGE_CODE):
        obj._change_reason = str(reason)[:REASON_MAX_LENGTH]
    return obj
