"""An audit event for each sign-in lockout of an existing account (django-axes'
`user_locked_out` signal)."""

from axes.helpers import get_failure_limit
from django.db import transaction
from django.utils.translation import gettext as _

from . import chain
from .models import AuditEvent, Kind
from .personal import account_personal


def on_user_locked_out(sender, request=None, username=None, **kwargs) -> None:
    # Axes sends the signal for the attempt that reached the limit and again for every failed
    # attempt during the lockout: one lockout is one event.
    failures = getattr(request, "axes_failures_since_start", None)
    credentials = getattr(request, "axes_credentials", None)
    if request is None or failures != get_failure_limit(request, credentials):
        return
    note_signin_lockout(username=username or "", failures=failures)


# An account name is at most 150 characters (Django's user model); anything typed is kept short.
SIGNIN_NAME_CHARS = 150


def note_signin_lockout(*, username: str, failures: int) -> AuditEvent | None:
    """Record that sign-in to an existing account was locked after ``failures`` failed attempts
    (django-axes). A name that is no account records nothing: anyone can type any text there (a
    made-up name, a person's email, a password typed in the wrong box), and the trail cannot
    forget it. Axes keeps it in its own access attempts, which expire and can be reset.

    The account's name stays out of the hashed texts: the summary holds a placeholder and the
    name is in the event's personal part, like a contact person's, so it can be pseudonymised."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import translation

    user_model = get_user_model()
    name = (username or "")[:SIGNIN_NAME_CHARS]
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).first()
    if user is None:
        return None
    placeholder, personal = account_personal(user)
    # In the record's language (the site's), whatever language the sign-in page was shown in.
    with translation.override(settings.LANGUAGE_CODE):
        summary = _(
            "Sign-in with the account name “%(name)s” locked after %(count)d failed attempts"
        ) % {"name": placeholder, "count": failures}
    with transaction.atomic():
        return chain.append_event(
            kind=Kind.SIGNIN_LOCKED,
            summary=summary,
            model_label="auth.user",
            object_id=str(user.pk),
            personal=personal,
        )
