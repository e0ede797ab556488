"""The public progress page (no login): a county's municipalities, one municipality, and the
adopted policy as a PDF. Read-only GETs; the same for everyone, so kept whole in the cache.

The language is Swedish unless the address asks for English (``?lang=en``) or the reader chose
it with the site's switch: a public page is linked to and shared, so its language is in its
address, and the page carries no form (no CSRF token), which lets one cached copy serve all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views import View

from audit.selectors import data_version
from policyflow.locale import language_from_cookie

from . import pdf, selectors

# Seconds a browser or a shared proxy may keep a public page; our own cache keeps it until
# anything changes (its key names the data version).
PUBLIC_MAX_AGE = 300


def page_language(request) -> str:
    asked = request.GET.get("lang", "")
    if asked in dict(settings.LANGUAGES):
        return asked
    return language_from_cookie(request) or settings.LANGUAGE_CODE


class PublicView(View):
    """A public page rendered once per data version, language and day, then served from the
    cache: a repeated read costs the version query and one cache read."""

    def dispatch(self, request, *args, **kwargs):
        self.language = page_language(request)
        translation.activate(self.language)
        request.LANGUAGE_CODE = self.language
        response = super().dispatch(request, *args, **kwargs)
        response.headers.setdefault("Cache-Control", f"public, max-age={PUBLIC_MAX_AGE}")
        return response

    def lang_query(self) -> str:
        return "" if self.language == settings.LANGUAGE_CODE else f"?lang={self.language}"

    def cached_value(self, name: str, build: Callable[[], Any]) -> Any:
        """``build()``, kept until anything PolicyFlow records changes (the data version: one
        query) or PAGE_CACHE_SECONDS pass."""
        if not hasattr(self, "version"):
            self.version = data_version()
        key = f"public:{name}:{self.language}:{self.version}"
        value = cache.get(key)
        if value is None:
            value = build()
            cache.set(key, value, settings.PAGE_CACHE_SECONDS)
        return value

    def cached(self, name: str, build: Callable[[], bytes], content_type: str) -> HttpResponse:
        return HttpResponse(self.cached_value(name, build), content_type=content_type)

    def progress(self, county) -> selectors.CountyProgress:
        return self.cached_value(
            f"progress:{county.code}", lambda: selectors.county_progress(county)
        )

    def page(self, name: str, template: str, context: Callable[[], dict]) -> HttpResponse:
        def build() -> bytes:
            return render_to_string(
                template,
                {**context(), "lang_query": self.lang_query(), "page_language": self.language},
                request=None,
            ).encode()

        return self.cached(name, build, "text/html; charset=utf-8")

    def switch_urls(self, path: str) -> dict:
        """The same page in the other language (the page's language switch is a link)."""
        return {"swedish_url": f"{path}?lang=sv", "english_url": f"{path}?lang=en"}


class CountyListView(PublicView):
    def get(self, request):
        def context() -> dict:
            return {
                "counties": [
                    {"county": c, "url": reverse("public:county", args=[slug])}
                    for c, slug in selectors.public_counties()
                ],
                **self.switch_urls(request.path),
            }

        return self.page("counties", "public_progress/counties.html", context)


def _county_or_404(slug: str):
    county = selectors.county_by_slug(slug)
    if county is None:
        raise Http404
    return county


class CountyPageView(PublicView):
    def get(self, request, county):
        found = _county_or_404(county)
        canonical = selectors.county_slug(found)
        if county != canonical:
            return redirect(reverse("public:county", args=[canonical]) + self.lang_query())

        def context() -> dict:
            return {"progress": self.progress(found), **self.switch_urls(request.path)}

        return self.page(f"county:{found.code}", "public_progress/county.html", context)


class MunicipalityPageView(PublicView):
    def get(self, request, county, municipality):
        found = _county_or_404(county)
        progress = self.progress(found)
        row = selectors.municipality_in(progress, municipality)
        if row is None:
            raise Http404
        if (county, municipality) != (progress.slug, row.slug):
            url = reverse("public:municipality", args=[progress.slug, row.slug])
            return redirect(url + self.lang_query())

        def context() -> dict:
            return {"progress": progress, "row": row, **self.switch_urls(request.path)}

        return self.page(f"municipality:{row.code}", "public_progress/municipality.html", context)


class AdoptedPolicyPdfView(PublicView):
    """The adopted policy's text with its decision, as a PDF rendered from the record."""

    def get(self, request, county, municipality):
        found = _county_or_404(county)
        progress = self.progress(found)
        row = selectors.municipality_in(progress, municipality)
        policy = selectors.adopted_policy(progress, row) if row else None
        if policy is None:
            raise Http404
        response = self.cached(
            f"policy:{row.code}:{policy.decision.pk}:{policy.draft.pk}",
            lambda: pdf.adopted_policy_pdf(policy),
            "application/pdf",
        )
        name = f"policy-{row.slug}-{policy.decision.meeting_date.isoformat()}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response
