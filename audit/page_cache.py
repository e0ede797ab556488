"""Rendered page content kept in the cache until anything it shows may have changed.

A page's main content is cached (with Django's ``{% cache %}`` tag) under a key naming all it
depends on: the data version (any write gives a new one, see ``selectors.data_version``), the
address with its query string, the language, today's date in the site's time zone (pages count
days and flag overdue steps), the session and the browser's CSRF cookie (the content holds
forms with tokens of that cookie) and the user's permissions (the controls they may use). A
repeated read then costs the version query and one cache read instead of the page's queries
and rendering.

Not exact for what is never audited: a user's changed display name, or a count of days that
turns in the middle of a day, may show up to ``PAGE_CACHE_SECONDS`` late.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from .conf import setting
from .selectors import data_version


@dataclass(frozen=True)
class PageCache:
    """What ``{% cache page_cache.seconds page_cache.name page_cache.key %}`` needs."""

    name: str
    key: str
    seconds: int


def page_cache(request, name: str, *parts) -> PageCache:
    """The cache entry of the page ``name`` for this request (``parts``: anything else the
    content depends on). One query: the data version."""
    # Loaded already by the view's permission check (the backend keeps them on the user).
    permissions = ",".join(sorted(request.user.get_all_permissions()))
    csrf_cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    key = ":".join(
        str(part)
        for part in (
            data_version(),
            request.get_full_path(),
            translation.get_language(),
            timezone.localdate().isoformat(),
            request.session.session_key,
            # The forms' tokens are masked copies of the browser's CSRF cookie: a browser whose
            # cookie changed gets content rendered for the new one.
            _digest(csrf_cookie),
            _digest(permissions),
            *parts,
        )
    )
    # Without a CSRF cookie (it is set by this very response) the content is not kept: its
    # tokens belong to a cookie the key cannot name yet.
    seconds = setting("PAGE_CACHE_SECONDS") if csrf_cookie else 0
    return PageCache(name, key, seconds)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lazily(build: Callable[[], dict], *names: str) -> dict:
    """The values ``build()`` returns under ``names``, computed at their first use in the
    template: on a cache hit nothing asks for them, and the page's queries never run."""
    once = functools.cache(build)
    return {name: SimpleLazyObject(lambda name=name: once()[name]) for name in names}
