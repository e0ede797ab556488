"""The follow-up report (uppföljningsrapport) as a PDF rendered by WeasyPrint, for a county or one
municipality: the overview, the figures with their tables, the decisions and the timeline."""

from __future__ import annotations

import datetime
import logging

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit import single_flight
from municipalities.models import County, Municipality

from ..stage_limits import stage_limits
from . import charts, selectors

TEMPLATE = "workflows/overview/report.html"
PROGRESS_TABLE = "workflows/overview/includes/progress_table.html"
STAGE_TIMES_TABLE = "workflows/overview/includes/stage_times_table.html"
FIGURES_CONTEXT = [
    "figures",
    "progress_chart",
    "stage_times_chart",
    "progress_table",
    "stage_times_table",
]

# WeasyPrint logs every rendering step at INFO; the site's log wants its warnings only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def cached_figures(
    *, county: County | None, now: datetime.datetime, limits: dict[str, int], within=None
) -> dict:
    """The county's figures and their charts (SVG), cached until a process or a stage limit
    changes (``selectors.figures_version``) or they go stale with time (``valid_until``).

    They are read from the summary of the history (a few small queries) and drawn as SVG text, a
    few milliseconds for the whole country; the cache spares even that, and a miss is filled by
    one request while the others wait for it (``audit.single_flight``).

    Returns ``figures``, the two charts and the page's two tables (`FIGURES_CONTEXT`).
    """
    scope = county.code if county else selectors.ALL_COUNTIES
    if county is None and within is not None:
        scope = "+".join(str(pk) for pk in sorted(within))  # "all" of a reader's counties
    version = selectors.figures_version(county=county, limits=limits, within=within)
    # "-2": the entry's shape (its tables, the summary's figures); a new shape needs a new name,
    # or entries written by the previous release would be read by this one.
    key = f"overview-figures-2:{scope}:{translation.get_language()}:{version}"

    def compute() -> dict:
        figures = selectors.county_figures(county=county, limits=limits, now=now, within=within)
        return {
            "figures": figures,
            "computed_at": now,
            "progress_chart": charts.progress_svg(figures.progress),
            "stage_times_chart": charts.stage_times_svg(figures.stage_times),
            # The page's tables too: a country's years of months are a thousand cells to render.
            "progress_table": render_to_string(PROGRESS_TABLE, {"progress": figures.progress}),
            "stage_times_table": render_to_string(
                STAGE_TIMES_TABLE, {"stage_times": figures.stage_times}
            ),
        }

    cached = single_flight.get_or_fill(
        key,
        compute,
        timeout=lambda value: (value["figures"].valid_until - now).total_seconds(),
        is_usable=lambda value: (
            value["computed_at"] <= now < value["figures"].valid_until
            and all(name in value for name in FIGURES_CONTEXT)
        ),
    )
    return {name: cached[name] for name in FIGURES_CONTEXT}


def _codes(within) -> list[str] | None:
    if within is None:
        return None
    return list(County.objects.filter(pk__in=within).values_list("code", flat=True))


CHARTS = {"progress": "progress_chart", "stage-times": "stage_times_chart"}


def chart_svg(
    *, county: County | None, chart: str, now: datetime.datetime, within=None
) -> bytes | None:
    """One of the overview's charts as an SVG file (from the cached figures), or None."""
    if chart not in CHARTS:
        return None
    figures = cached_figures(county=county, now=now, limits=stage_limits(), within=within)
    svg = figures[CHARTS[chart]]
    return svg.encode() if svg else None


def county_context(
    *,
    county: County | None,
    now: datetime.datetime | None = None,
    within=None,
    personal: bool = True,
) -> dict:
    """The report of one county, or of all counties (``county`` None; of the ``within`` ids when
    given). Without ``personal`` (reference group, national readers) the timeline, which names
    contact persons, is left out."""
    board = selectors.county_board(county=county, now=now, within=within, personal=personal)
    figures = cached_figures(county=county, now=board.now, limits=board.limits, within=within)
    return {
        "scope": "county",
        "title": county.name if county else _("All counties"),
        "county": county,
        "board": board,
        "rows": board.rows,
        "stage_times": figures["figures"].stage_times,
        "decisions": selectors.county_decisions(county=county, within=within),
        "timeline": selectors.report_timeline(
            county=county.code if county else None,
            counties=_codes(within),
            kinds=selectors.COUNTY_REPORT_KINDS,
        )
        if personal
        else selectors.ReportTimeline([], False),
        "generated_at": board.now,
        "shows_timeline": personal,
        **figures,
    }


def municipality_context(
    *,
    municipality: Municipality,
    now: datetime.datetime | None = None,
    timeline_limit: int = selectors.REPORT_TIMELINE_LIMIT,
    personal: bool = True,
) -> dict:
    """The report of one municipality; without ``personal``, no timeline (see county_context)."""
    page = selectors.municipality_overview(municipality=municipality, now=now, personal=personal)
    return {
        "scope": "municipality",
        "title": municipality.name,
        "county": municipality.county,
        "municipality": municipality,
        "page": page,
        "rows": [page.row],
        "decisions": page.decisions,
        "timeline": selectors.report_timeline(municipality=municipality, limit=timeline_limit)
        if personal
        else selectors.ReportTimeline([], False),
        "generated_at": page.now,
        "shows_timeline": personal,
        "comparison_chart": charts.comparison_svg(page.comparison, name=municipality.name),
        "stays_timeline": charts.stays_timeline(page.stays, page.now),
    }


def render_pdf(context: dict, *, request=None) -> bytes:
    """The report as PDF bytes."""
    return html_to_pdf(render_to_string(TEMPLATE, context, request=request))


def html_to_pdf(html: str) -> bytes:
    """A PDF of ``html``, tagged for screen readers (PDF/UA), that loads nothing from outside.

    Only embedded images (data: URIs, the figures) are read: text from the record can never
    make the renderer fetch a URL or read a file.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")


def filename(context: dict) -> str:
    day = timezone.localdate(context["generated_at"]).isoformat()
    return f"policyflow-{slugify(context['title'])}-{day}.pdf"
