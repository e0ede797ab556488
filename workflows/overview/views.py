"""Pages of the county overview (the steering group's home page), the municipality page and the
follow-up reports (PDF). All read-only (GET), for whoever may read processes."""

import datetime

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from audit import selectors as audit_selectors
from audit.page_cache import CachedPageMixin, lazily
from municipalities import scoping

from ..views import ReadMixin
from . import charts, report, selectors

# Events shown on the municipality page; its full timeline is one link away.
PAGE_TIMELINE_LIMIT = 20


def _scope(request):
    """The county the request asks for (404 for one the user may not read) and what "all
    counties" covers for this user."""
    user = request.user
    county = selectors.county_by_code(request.GET.get("county"), user=user)
    within = selectors.within_of(user) if county is None else None
    return county, within


def _municipality(request, code):
    """The municipality, 404 when its county is not the user's."""
    municipality = selectors.municipality_by_code(code)
    if not scoping.can_read(request.user, municipality.county_id):
        raise Http404(_("Unknown municipality."))
    return municipality


class CountyOverviewView(ReadMixin, CachedPageMixin, TemplateView):
    template_name = "workflows/overview/county.html"
    page_cache_name = "overview"

    def get_context_data(self, **kwargs):
        user = self.request.user
        counties = selectors.counties(user)
        county = selectors.county_by_code(
            self.request.GET.get("county"), choices=counties, user=user
        )
        within = selectors.within_of(user) if county is None else None
        personal = selectors.may_name_contacts(user, county, within)

        def content() -> dict:
            if county is None:
                # Every county: one row each, linking to the county's own board.
                board = selectors.country_board(counties=counties)
            else:
                board = selectors.county_board(county=county, personal=personal)
            figures = report.cached_figures(
                county=county, now=board.now, limits=board.limits, within=within
            )
            funnel = charts.funnel(board) if county is not None else []
            return {"board": board, "funnel": funnel, **figures}

        return super().get_context_data(
            county=county,
            county_param=county.code if county else selectors.ALL_COUNTIES,
            scope_name=county.name if county else _("all counties"),
            # The county choice and "all counties" only for a reader of several counties.
            counties=counties if scoping.has_several_counties(user) else [],
            shows_timeline=personal,
            # A changed stage limit is audited, so it gives a new data version too.
            page_cache=self.page_cache,
            **lazily(content, "board", "funnel", *report.FIGURES_CONTEXT),
            # Inside the cached content: the data version changes with the head and with
            # each verification.
            chain=SimpleLazyObject(audit_selectors.chain_status),
            **kwargs,
        )


class OverviewChartView(ReadMixin, View):
    """A chart of the county overview as an SVG file: the page links to it (the charts were
    three quarters of the page's bytes as inline images). The browser keeps it while the page's
    data version, in its address, stays the same, and at most until midnight: the figures count
    days, as the page's own cache key does."""

    def get(self, request, chart):
        now = timezone.now()
        county, within = _scope(request)
        svg = report.chart_svg(county=county, chart=chart, now=now, within=within)
        if svg is None:
            raise Http404
        response = HttpResponse(svg, content_type="image/svg+xml")
        if request.GET.get("v"):
            midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
            seconds = int((midnight + datetime.timedelta(days=1) - now).total_seconds())
            response["Cache-Control"] = f"private, max-age={max(seconds, 1)}"
        return response


class MunicipalityOverviewView(ReadMixin, TemplateView):
    template_name = "workflows/overview/municipality.html"

    def get_context_data(self, code, **kwargs):
        municipality = _municipality(self.request, code)
        personal = scoping.can_see_personal_data(self.request.user, municipality.county_id)
        return super().get_context_data(
            **report.municipality_context(
                municipality=municipality, timeline_limit=PAGE_TIMELINE_LIMIT, personal=personal
            ),
            **kwargs,
        )


def _pdf(context: dict, request) -> HttpResponse:
    response = HttpResponse(
        report.render_pdf(context, request=request), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{report.filename(context)}"'
    # The report names contact persons: keep it out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


class CountyReportView(ReadMixin, View):
    def get(self, request):
        county, within = _scope(request)
        personal = selectors.may_name_contacts(request.user, county, within)
        return _pdf(report.county_context(county=county, within=within, personal=personal), request)


class MunicipalityReportView(ReadMixin, View):
    def get(self, request, code):
        municipality = _municipality(request, code)
        personal = scoping.can_see_personal_data(request.user, municipality.county_id)
        return _pdf(
            report.municipality_context(municipality=municipality, personal=personal), request
        )
