"""The page a locked-out sign-in gets (django-axes calls `lockout_response`)."""

import math

from axes.helpers import get_cool_off
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


def lockout_response(request, original_response=None, credentials=None):
    """Too many failed sign-ins for this account name: say so in the site's layout, with how
    long to wait and who can lift the lock. 429, and never cached."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    response = render(
        request, "registration/locked_out.html", {"cool_off_minutes": minutes}, status=429
    )
    add_never_cache_headers(response)
    return response
