"""Swedish first: the language is the one chosen with the visible switch, else Swedish.

Django's LocaleMiddleware falls back to the browser's Accept-Language header, so an
English-language browser (the default of most browsers and of many municipal desktops) was
shown English without anyone choosing it. A public service in Sweden speaks Swedish unless the
reader asks otherwise: only the language cookie, which Django's ``set_language`` view sets when
the switch is used, chooses another language.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


def language_from_cookie(request) -> str | None:
    """The supported language the language cookie names, or None."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class SwedishFirstLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware without the Accept-Language step (the project has no i18n URL prefixes)."""

    def process_request(self, request):
        translation.activate(language_from_cookie(request) or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        # The page depends on the language cookie, never on Accept-Language.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
