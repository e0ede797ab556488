"""Rendered pages kept in the cache until anything they show may have changed.

A page is cached whole (`CachedPageMixin`), and its main content also on its own (Django's
``{% cache %}`` tag: a request that shows a message cannot use the whole page), under a key
naming all it depends on: the data version of the reader's counties (any write in them, or of no
municipality, gives a new one; a write in another county does not: ``PAGE_CACHE_SCOPE``, see
``selectors.data_version``), the address with its query string, the language, today's date in
the site's time zone (pages count days and flag overdue steps), the session and the browser's
CSRF cookie (the content holds forms with tokens of that cookie) and the user's permissions (the
controls they may use). A repeated read then costs the version query and one cache read instead
of the page's queries and rendering.

Not exact for what is never audited: a user's changed display name, or a count of days that
turns in the middle of a day, may show up to ``PAGE_CACHE_SECONDS`` late.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from . import single_flight
from .conf import counties_of, setting
from .selectors import data_version


@dataclass(frozen=True)
class PageCache:
    """What ``{% cache page_cache.seconds page_cache.name page_cache.key %}`` needs."""

    name: str
    key: str
    seconds: int
    # The data version the key names: addresses of what the page links to (its charts) may
    # carry it, so that a browser keeps them exactly as long as the page.
    version: str = ""

    @property
    def page_key(self) -> str:
        """The whole page's cache key."""
        return f"page:{self.name}:{_digest(self.key)}"


class CachedPageMixin:
    """A read-only page (a TemplateView) whose whole response is kept in the cache under its
    `page_cache` key: a repeated read costs the access check, the version query and one cache
    read, and renders nothing. ``get_context_data`` finds the entry as ``self.page_cache``.

    Not kept: a page showing messages (they are shown once), an error, a request without a
    CSRF cookie (see `page_cache`).

    A miss is filled once (`single_flight`): concurrent requests for the same page wait up to
    ``page_fill_wait`` seconds for the first one's rendering instead of each rendering it.
    """

    page_cache_name = ""
    page_fill_wait = 5.0

    def get(self, request, *args, **kwargs):
        self.page_cache = entry = page_cache(request, self.page_cache_name)
        if not entry.seconds or _has_messages(request):
            return super().get(request, *args, **kwargs)
        body = cache.get(entry.page_key)
        fills = False
        if body is None:
            fills = single_flight.claim(entry.page_key, lock_seconds=int(self.page_fill_wait * 3))
            if not fills:
                body = single_flight.wait_for(entry.page_key, wait=self.page_fill_wait)
        if body is not None:
            # As rendering the page's forms would: the CSRF cookie's expiry is renewed.
            get_token(request)
            return HttpResponse(body)
        try:
            response = super().get(request, *args, **kwargs)
        except BaseException:
            if fills:
                single_flight.release(entry.page_key)
            raise
        if response.status_code == 200:

            def keep(rendered):
                cache.set(entry.page_key, rendered.content, entry.seconds)
                if fills:
                    single_flight.release(entry.page_key)

            response.add_post_render_callback(keep)
        elif fills:
            single_flight.release(entry.page_key)
        return response


def cached_download(
    request,
    name: str,
    stream: Callable[[], Iterable[str]],
    entry: PageCache | None = None,
    kept: str | None = None,
    looked: bool = False,
    **response_kwargs,
):
    """A streamed download kept whole in the cache when it is small (a process's CSV), under
    the same key as a page (`page_cache`, or ``entry`` when the view built it already): a
    repeated download is one cache read, and a large one (the county's million events) streams
    as always and is never kept. ``stream()`` is called only when the download is not in the
    cache. ``looked``: the view read the entry already (with a key of its own, in one round
    trip), and ``kept`` is what it found (None: nothing)."""
    entry = entry or page_cache(request, name)
    body = kept
    if not looked and entry.seconds:
        body = cache.get(entry.page_key)
    if body is not None:
        return HttpResponse(body, **response_kwargs)
    chunks = stream()
    if entry.seconds:
        chunks = _kept_when_small(chunks, entry, setting("PAGE_CACHE_MAX_DOWNLOAD_CHARS"))
    return StreamingHttpResponse(chunks, **response_kwargs)


def _kept_when_small(chunks: Iterable[str], entry: PageCache, limit: int) -> Iterator[str]:
    kept, size = [], 0
    for chunk in chunks:
        if kept is not None:
            size += len(chunk)
            if size <= limit:
                kept.append(chunk)
            else:
                kept = None  # too large to keep: it only streams
        yield chunk
    # Only a download sent to its end is kept (a client that went away closes this generator).
    if kept is not None:
        cache.set(entry.page_key, "".join(kept), entry.seconds)


def _has_messages(request) -> bool:
    return len(messages.get_messages(request)) > 0


def page_cache(request, name: str, *parts) -> PageCache:
    """The cache entry of the page ``name`` for this request (``parts``: anything else the
    content depends on). One query, the data version, when pages are kept at all."""
    # Loaded already by the view's permission check (the backend keeps them on the user).
    csrf_cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    # Without a CSRF cookie (it is set by this very response) the content is not kept: its
    # tokens belong to a cookie the key cannot name yet.
    seconds = setting("PAGE_CACHE_SECONDS") if csrf_cookie else 0
    if not seconds:
        # Nothing is kept: no key to build, and no query for the data version.
        return PageCache(name, "", 0)
    permissions = ",".join(sorted(request.user.get_all_permissions()))
    # The counties whose writes may change what this reader's pages show.
    counties = counties_of("PAGE_CACHE_SCOPE", request.user)
    version = data_version(counties)
    key = ":".join(
        str(part)
        for part in (
            version,
            # The counties whose writes the version counts (a reader given another county
            # has other pages).
            "*" if counties is None else ",".join(sorted(counties)),
            request.get_full_path(),
            translation.get_language(),
            timezone.localdate().isoformat(),
            request.session.session_key,
            # The forms' tokens are masked copies of the browser's CSRF cookie: a browser whose
            # cookie changed gets content rendered for the new one.
            _digest(csrf_cookie),
            _digest(permissions),
            # The layout's administration link (not a permission).
            request.user.is_staff,
            *parts,
        )
    )
    return PageCache(name, key, seconds, version)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def lazily(build: Callable[[], dict], *names: str) -> dict:
    """The values ``build()`` returns under ``names``, computed at their first use in the
    template: on a cache hit nothing asks for them, and the page's queries never run."""
    once = functools.cache(build)
    return {name: SimpleLazyObject(lambda name=name: once()[name]) for name in names}
