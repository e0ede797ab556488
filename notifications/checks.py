"""System checks for the notification settings that would otherwise fail silently at run time."""

from django.conf import settings
from django.core.checks import Warning, register

# Redis's default when CELERY_BROKER_TRANSPORT_OPTIONS does not set one.
REDIS_DEFAULT_VISIBILITY_TIMEOUT = 3600


@register()
def check_backoff_below_visibility_timeout(app_configs, **kwargs):
    """A retry countdown longer than Redis's visibility timeout makes the message run twice."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    visibility = options.get("visibility_timeout", REDIS_DEFAULT_VISIBILITY_TIMEOUT)
    cap = float(settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS)
    if cap >= visibility:
        return [
            Warning(
                f"NOTIFICATIONS_BACKOFF_MAX_SECONDS ({cap:g}) is not below the broker's "
                f"visibility_timeout ({visibility}): a delayed retry would be delivered twice "
                "to workers (the row lock still sends it once, but the worker does double work).",
                id="notifications.W001",
            )
        ]
    return []
