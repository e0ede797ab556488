"""The follow-up pages: the period report as a page, a PDF and a CSV file. Read-only (GET), for
whoever may read the county (project leaders, steering and reference groups)."""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from municipalities import scoping
from workflows.views import ReadMixin

from . import periods, report, selectors


def _follow_up(request):
    period = periods.parse(request.GET.get("period"), today=timezone.localdate())
    if period is None:
        raise Http404
    counties, code = selectors.counties_for(user=request.user, code=request.GET.get("county"))
    return selectors.follow_up(counties=counties, period=period), code


class FollowUpView(ReadMixin, TemplateView):
    template_name = "followup/page.html"

    def get_context_data(self, **kwargs):
        follow_up, code = _follow_up(self.request)
        counties = list(scoping.visible_counties(self.request.user).order_by("code"))
        return super().get_context_data(
            **report.context(follow_up),
            county_param=code,
            counties=counties,
            periods=periods.choices(today=timezone.localdate()),
            query=f"county={code}&period={follow_up.period.key}",
            **kwargs,
        )


def _download(content, *, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


class FollowUpPdfView(ReadMixin, View):
    def get(self, request):
        follow_up, _code = _follow_up(request)
        return _download(
            report.render_pdf(follow_up, request=request),
            content_type="application/pdf",
            name=report.filename(follow_up, "pdf"),
        )


class FollowUpCsvView(ReadMixin, View):
    def get(self, request):
        follow_up, _code = _follow_up(request)
        # Excel with Swedish settings expects semicolons (as the audit trail's CSV offers).
        delimiter = ";" if request.GET.get("delimiter") in (";", "semicolon") else ","
        return _download(
            report.csv_text(follow_up, delimiter=delimiter),
            content_type="text/csv; charset=utf-8",
            name=report.filename(follow_up, "csv"),
        )
