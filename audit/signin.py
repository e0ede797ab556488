"""An audit event for each sign-in lockout of an existing account (django-axes'
`user_locked_out` signal); see `services.note_signin_lockout`."""

from axes.helpers import get_failure_limit

from . import services


def on_user_locked_out(sender, request=None, username=None, **kwargs) -> None:
    # Axes sends the signal for the attempt that reached the limit and again for every failed
    # attempt during the lockout: one lockout is one event.
    failures = getattr(request, "axes_failures_since_start", None)
    credentials = getattr(request, "axes_credentials", None)
    if request is None or failures != get_failure_limit(request, credentials):
        return
    services.note_signin_lockout(username=username or "", failures=failures)
