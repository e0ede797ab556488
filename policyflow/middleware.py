"""Response headers every page needs, whichever view answered."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.shortcuts import render
from django.utils.cache import patch_cache_control


class PrivateCacheControlMiddleware:
    """A response to a signed-in user is kept by no cache, neither a shared proxy nor the
    browser's history: it shows the record and people's names to whoever may read them, and the
    next person at a shared computer must not see it with the back button. The server-side page
    cache (audit.page_cache) is not concerned: it keys entries by session and permissions.

    A view that chose its own ``Cache-Control`` keeps it (the overview's charts are kept by the
    browser until midnight, as ``private``; the admin and task-link pages send ``no-store``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class RejectNullCharactersMiddleware:
    """A request whose address or query string holds a NUL character gets 400, before any view
    parses it. No input of PolicyFlow can hold one (PostgreSQL's text cannot), and each view
    passing a query parameter to the database raised a 500 on it. Form fields refuse it in
    POSTed forms with a message next to the field (Django's CharField)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return render(request, "400.html", status=400)
        return self.get_response(request)


class DropNullCookiesMiddleware:
    """A cookie whose name or value holds a NUL character is dropped before any middleware reads
    it: no cookie PolicyFlow sets can hold one, and a session cookie of NULs reached the session
    lookup in PostgreSQL (a DataError, 500) outside the view. The request goes on as if the
    browser had not sent that cookie (a sign-in page for a session cookie), rather than a 400
    page, which itself needs the session and the language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [n for n, v in request.COOKIES.items() if "\x00" in n or "\x00" in v]:
            del request.COOKIES[name]
        return self.get_response(request)


class RenamedBackendMiddleware:
    """A session names the backend that signed it in, and Django signs it out when that backend
    is no longer in AUTHENTICATION_BACKENDS. Sessions signed in before the permission cache
    (municipalities.access) name Django's ModelBackend: the first request of each renames it to
    the cached one (one session write), so nobody is signed out. The session is read here only
    when the browser sent one, as `PrivateCacheControlMiddleware` reads it for every such
    response anyway (it asks whether the user is signed in). Can go once every session older
    than the rename has expired (SESSION_COOKIE_AGE)."""

    RENAMED = {
        "django.contrib.auth.backends.ModelBackend": "municipalities.access.CachedModelBackend"
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            backend = request.session.get(BACKEND_SESSION_KEY)
            renamed = self.RENAMED.get(backend)
            if renamed is not None and renamed in settings.AUTHENTICATION_BACKENDS:
                request.session[BACKEND_SESSION_KEY] = renamed
        return self.get_response(request)
