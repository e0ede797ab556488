"""Rendered page content kept in the cache until anything it shows may have changed.

A page's main content is cached (with Django's ``{% cache %}`` tag) under a key naming all it
depends on: the data version (any write gives a new one, see ``selectors.data_version``), the
address with its query string, the language, today's date in the site's time zone (pages count
days and flag overdue steps), the session (the content holds forms with the session's CSRF
token) and the user's permissions (the controls they may use). A repeated read then costs the
version query and one cache read instead of the page's queries and rendering.

Not exact for what is never audited: a user's changed display name, or a count of days that
turns in the middle of a day, may show up to ``PAGE_CACHE_SECONDS`` late.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

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
    key = ":".join(
        str(part)
        for part in (
            data_version(),
            request.get_full_path(),
            translation.get_language(),
            timezone.localdate().isoformat(),
            request.session.session_key,
            hashlib.sha256(permissions.encode()).hexdigest()[:16],
            *parts,
        )
    )
    return PageCache(name, key, setting("PAGE_CACHE_SECONDS"))


def lazily(build: Callable[[], dict], *names: str) -> dict:
    """The values ``build()`` returns under ``names``, computed at their first use in the
    template: on a cache hit nothing asks for them, and the page's queries never run."""
    once = functools.cache(build)
    return {name: SimpleLazyObject(lambda name=name: once()[name]) for name in names}
