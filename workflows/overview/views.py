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

from ..views import ReadMixin
from . import charts, report, selectors

# Events shown on the municipality page; its full timeline is one link away.
PAGE_TIMELINE_LIMIT = 20


class CountyOverviewView(ReadMixin, CachedPageMixin, TemplateView):
    template_name = "workflows/overview/county.html"
    page_cache_name = "overview"

    def get_context_data(self, **kwargs):
        counties = selectors.counties()
        county = selectors.county_by_code(self.request.GET.get("county"), choices=counties)

        def content() -> dict:
            if county is None:
                # Every county: one row each, linking to the county's own board.
                board = selectors.country_board(counties=counties)
            else:
                board = selectors.county_board(county=county)
            figures = report.cached_figures(county=county, now=board.now, limits=board.limits)
            funnel = charts.funnel(board) if county is not None else []
            return {"board": board, "funnel": funnel, **figures}

        return super().get_context_data(
            county=county,
            county_param=county.code if county else selectors.ALL_COUNTIES,
            scope_name=county.name if county else _("all counties"),
            counties=counties,
            # A changed stage limit is audited, so it gives a new data version too.
            page_cache=self.page_cache,
            **lazily(content, "board", "funnel", "figures", "progress_chart", "stage_times_chart"),
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
        county = selectors.county_by_code(request.GET.get("county"))
        svg = report.chart_svg(county=county, chart=chart, now=now)
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
        municipality = selectors.municipality_by_code(code)
        return super().get_context_data(
            **report.municipality_context(
                municipality=municipality, timeline_limit=PAGE_TIMELINE_LIMIT
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
        county = selectors.county_by_code(request.GET.get("county"))
        return _pdf(report.county_context(county=county), request)


class MunicipalityReportView(ReadMixin, View):
    def get(self, request, code):
        municipality = selectors.municipality_by_code(code)
        return _pdf(report.municipality_context(municipality=municipality), request)
