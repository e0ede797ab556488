"""Thin views of the audit trail: timelines (county-wide, per municipality, per process), the
per-process and per-municipality CSV exports (the whole trail's CSV and archive are export jobs,
their old addresses lead there), and the administrator's personal-data pages (export,
pseudonymise).

Timelines and exports need AUDIT_READ_PERMISSION (project leaders and the steering group); the
personal-data pages are for superusers only. Nothing here changes the record except the two
POSTs of the personal-data pages, which are CSRF-protected.
"""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from . import exports, registry, selectors, services
from .conf import counties_of, setting
from .forms import PseudonymiseForm, TimelineFilterForm
from .models import AuditEvent
from .page_cache import CachedPageMixin, PageCache, cached_download, lazily, page_cache


class ReadMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Readers of the trail; with AUDIT_COUNTY_SCOPE, of their counties' events only (a reader
    with no county whose trail they may read is refused)."""

    def get_permission_required(self):
        return [setting("AUDIT_READ_PERMISSION")]

    def dispatch(self, request, *args, **kwargs):
        self.counties = None
        if request.user.is_authenticated and self.has_permission():
            self.counties = reader_counties(request.user)
            if self.counties is not None and not self.counties:
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def reader_counties(user) -> list[str] | None:
    """The county codes ``user`` reads the trail of (None: every county)."""
    return counties_of("AUDIT_COUNTY_SCOPE", user)


class AdminMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_superuser:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _scope(view_name: str, pk: int | None) -> tuple[str, dict]:
    if view_name in ("process", "process_csv"):
        return "process", {"process": pk}
    if view_name in ("municipality", "municipality_csv"):
        return "municipality", {"municipality": pk}
    return "county", {}


def _scope_title(scope: str, pk: int | None, counties=None) -> str:
    """The page's title; 404 for a process or municipality outside the reader's ``counties``."""
    if scope == "process":
        events = AuditEvent.objects.filter(process_id=pk)
        if counties is not None:
            events = events.filter(county_code__in=counties)
        name = events.order_by("-id").values_list("municipality_name", flat=True).first()
        if name is None:
            raise Http404
        return _("Timeline of process %(id)s – %(municipality)s") % {"id": pk, "municipality": name}
    if scope == "municipality":
        directory = registry.directory()
        place = directory.place(pk, {}) if directory else None
        if place is None or (counties is not None and place.county_code not in counties):
            raise Http404
        return _("Timeline of %(municipality)s") % {"municipality": place.municipality_name}
    return _("Audit trail")


def _check_scope(
    scope: str, pk: int | None, counties, *, entry: PageCache
) -> tuple[bool, str | None]:
    """404 for a process or municipality outside the reader's ``counties``, as `_scope_title`;
    a process's through `selectors.process_readable` (kept under the data version, read with
    the download's own entry in one round trip): returns (looked, what the entry holds)."""
    if scope != "process" or not entry.version:
        _scope_title(scope, pk, counties)
        return False, None
    readable, kept = selectors.process_readable(
        pk, counties, version=entry.version, also=entry.page_key
    )
    if not readable:
        raise Http404
    return True, kept


def _filter_query(request) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()


class TimelineView(ReadMixin, CachedPageMixin, TemplateView):
    template_name = "audit/timeline.html"
    page_cache_name = "timeline"

    def get_context_data(self, pk=None, **kwargs):
        scope, fixed = _scope(self.request.resolver_match.url_name, pk)
        title = _scope_title(scope, pk, self.counties)

        def events() -> dict:
            form = TimelineFilterForm(self.request.GET or None, scope=scope, counties=self.counties)
            filters = {**form.filters(), **fixed} if form.is_bound else dict(fixed)
            after = form.cleaned_data.get("after") if form.is_bound and form.is_valid() else None
            # A process's or municipality's page, once allowed (the title's check), shows all of
            # its events; the county-wide page, the reader's counties only.
            counties = self.counties if scope == "county" else None
            page = selectors.timeline(**filters, counties=counties, after_id=after, limit=50)
            return {
                # Not "form": the base template would ask for its errors on every request.
                "filter_form": form,
                "events": selectors.display_events(page.events),
                "next_after_id": page.next_after_id,
                "is_first_page": after is None,
            }

        csv_url = {
            "county": "audit:export_csv",
            "process": "audit:process_csv",
            "municipality": "audit:municipality_csv",
        }[scope]
        return super().get_context_data(
            title=title,
            scope=scope,
            scope_pk=pk,
            page_cache=self.page_cache,
            **lazily(events, "filter_form", "events", "next_after_id", "is_first_page"),
            query=_filter_query(self.request),
            csv_url=csv_url,
            # Inside the cached content: the data version changes with the head and with
            # each verification.
            chain=SimpleLazyObject(selectors.chain_status),
            **kwargs,
        )


class ProcessTimelineView(TimelineView):
    pass


class MunicipalityTimelineView(TimelineView):
    pass


class CsvExportView(ReadMixin, View):
    """The timeline's events (same filters), oldest first, streamed: any size."""

    def get(self, request, pk=None):
        scope, fixed = _scope(request.resolver_match.url_name, pk)
        entry = page_cache(request, "csv")
        looked, kept = _check_scope(scope, pk, self.counties, entry=entry)  # 404 outside them
        filters = dict(fixed)
        if request.GET:  # no form to build for a download without filters (most are)
            form = TimelineFilterForm(request.GET, scope=scope, counties=self.counties)
            if not form.is_valid():
                return HttpResponse(_("Invalid filters."), status=400, content_type="text/plain")
            filters = {**form.filters(), **fixed}
        delimiter = ";" if request.GET.get("delimiter") in (";", "semicolon") else ","

        counties = self.counties if scope == "county" else None

        def rows():
            queryset = selectors.filtered_events(**filters, counties=counties)
            return exports.stream_csv(
                queryset if queryset is not None else AuditEvent.objects.none(),
                delimiter=delimiter,
            )

        response = cached_download(
            request,
            "csv",
            rows,
            entry=entry,
            kept=kept,
            looked=looked,
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="policyflow-audit-{stamp}.csv"'
        return response


class TrailExportView(ReadMixin, View):
    """The whole trail's CSV or archive, at its old address (`export.csv`, `archive.zip`): made
    as an export job now (a million rows outlive any request), so the address leads to the page
    that asks for one, with the same filters (a bookmark or a script's GET lands there; the
    timeline links there itself). Readers of the trail only, as before."""

    kind = "audit_csv"

    def get(self, request):
        params = request.GET.copy()
        delimiter = params.pop("delimiter", [""])[-1]
        form = TimelineFilterForm(params or None, scope="county", counties=self.counties)
        if form.is_bound and not form.is_valid():
            return HttpResponse(_("Invalid filters."), status=400, content_type="text/plain")
        query = {"query": params.urlencode()}
        if self.kind == "audit_csv" and delimiter:
            query["delimiter"] = delimiter
        target = reverse("exports:request", args=[self.kind])
        return redirect(f"{target}?{urlencode(query)}")


# --- Personal data (administrators) -----------------------------------------------------------


def _person_or_404(pk: int):
    directory = registry.directory()
    if directory is None:
        raise Http404
    try:
        return directory.person(pk)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


class PeopleView(AdminMixin, TemplateView):
    template_name = "audit/people.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "")
        return super().get_context_data(
            query=query, people=selectors.search_people(query), **kwargs
        )


class PersonView(AdminMixin, TemplateView):
    template_name = "audit/person.html"

    def get_context_data(self, pk, **kwargs):
        person = _person_or_404(pk)
        return super().get_context_data(
            person=person,
            event_count=selectors.events_about_person(pk).count(),
            form=kwargs.pop("form", None) or PseudonymiseForm(),
            **kwargs,
        )


@method_decorator(require_POST, name="dispatch")
class PersonExportView(AdminMixin, View):
    """Everything stored about the contact person, as a JSON download (the export is recorded)."""

    def post(self, request, pk):
        person = _person_or_404(pk)
        data = exports.personal_data_export(person)
        services.note_personal_data_export(person=person, user=request.user)
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="contact-{pk}-personal-data.json"'
        return response


@method_decorator(require_POST, name="dispatch")
class PseudonymiseView(AdminMixin, View):
    def post(self, request, pk):
        person = _person_or_404(pk)
        form = PseudonymiseForm(request.POST)
        if form.is_valid():
            try:
                result = services.pseudonymise_person(
                    person=person, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("The contact person is pseudonymised (%(count)s audit events rewritten).")
                    % {"count": result.events_rewritten},
                )
                return redirect("audit:person", pk)
        view = PersonView()
        view.setup(request, pk=pk)
        context = view.get_context_data(pk=pk, form=form)
        return render(request, "audit/person.html", context, status=400)
