"""Thin views of the ASF register: parse, call a service or selector, render.

Read pages need a role in a county (its enterprises only: another county's answer 404); every
write is a POST by a project leader of the enterprise's county, CSRF-protected.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from municipalities import scoping

from . import selectors, services
from .forms import EnterpriseForm, ImportConfirmForm, ImportUploadForm
from .models import Status
from .register_csv import COLUMNS, FileError, decode, read_import, stream_export

PAGE_SIZE = 50


def form_errors_from(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: next to its field, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ReaderMixin(LoginRequiredMixin):
    """Someone with a role in at least one county (or a national reader)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not scoping.visible_counties(request.user).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class LeaderMixin(LoginRequiredMixin):
    """A project leader of at least one county."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not scoping.led_county_ids(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def led_counties(self):
        return list(scoping.led_counties(self.request.user))


def _filters(request) -> dict:
    """The list's and the export's filters, from the query string (unknown values ignored)."""
    get = request.GET
    municipality = None
    code = get.get("municipality", "")
    if code.isdigit():
        municipality = selectors.municipality_choices(request.user).filter(code=code).first()
    status = get.get("status", "")
    return {
        "municipality": municipality,
        "status": status if status in Status.values else "",
        "search": get.get("q", "")[:100],
    }


class EnterpriseListView(ReaderMixin, View):
    def get(self, request):
        filters = _filters(request)
        enterprises = selectors.enterprise_list(user=request.user, **filters)
        page = Paginator(enterprises, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "enterprises/list.html",
            {
                "page": page,
                "query": query.urlencode(),
                "municipalities": selectors.municipality_choices(request.user),
                "statuses": Status.choices,
                "chosen": filters,
                "can_lead": bool(scoping.led_county_ids(request.user)),
            },
        )


class EnterpriseDetailView(ReaderMixin, View):
    def get(self, request, pk: int):
        enterprise = selectors.enterprise_for(user=request.user, pk=pk)
        return render(
            request,
            "enterprises/detail.html",
            {
                "enterprise": enterprise,
                "can_lead": scoping.can_lead(request.user, enterprise.county),
                "shows_personal_data": scoping.can_see_personal_data(
                    request.user, enterprise.county
                ),
            },
        )


class EnterpriseCreateView(LeaderMixin, View):
    template_name = "enterprises/form.html"

    def get(self, request):
        return self._render(EnterpriseForm(counties=self.led_counties()))

    def post(self, request):
        form = EnterpriseForm(request.POST, counties=self.led_counties())
        if form.is_valid():
            try:
                enterprise = services.create_enterprise(
                    user=request.user,
                    county=form.cleaned_data["county"],
                    data=form.enterprise_data(),
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request, _("%(name)s is in the register.") % {"name": enterprise.name}
                )
                return redirect("enterprises:detail", enterprise.pk)
        return self._render(form, status=400)

    def _render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "title": _("Add an ASF to the register")},
            status=status,
        )


class EnterpriseEditView(ReaderMixin, View):
    template_name = "enterprises/form.html"

    def _enterprise(self, request, pk):
        enterprise = selectors.enterprise_for(user=request.user, pk=pk)  # 404 elsewhere
        if not scoping.can_lead(request.user, enterprise.county):
            raise PermissionDenied
        return enterprise

    def get(self, request, pk: int):
        enterprise = self._enterprise(request, pk)
        form = EnterpriseForm(counties=[enterprise.county], enterprise=enterprise)
        return self._render(form, enterprise)

    def post(self, request, pk: int):
        enterprise = self._enterprise(request, pk)
        form = EnterpriseForm(request.POST, counties=[enterprise.county], enterprise=enterprise)
        if form.is_valid():
            try:
                services.update_enterprise(
                    user=request.user, enterprise=enterprise, data=form.enterprise_data()
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("Your changes are saved."))
                return redirect("enterprises:detail", enterprise.pk)
        return self._render(form, enterprise, status=400)

    def _render(self, form, enterprise, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "enterprise": enterprise,
                "title": _("Change %(name)s") % {"name": enterprise.name},
            },
            status=status,
        )


class ImportView(LeaderMixin, View):
    """GET: the upload form. POST: the preview of every row; nothing is saved."""

    def get(self, request):
        return self._upload_page(ImportUploadForm(counties=self.led_counties()))

    def post(self, request):
        counties = self.led_counties()
        form = ImportUploadForm(request.POST, request.FILES, counties=counties)
        if not form.is_valid():
            return self._upload_page(form, status=400)
        upload, county = form.cleaned_data["file"], form.cleaned_data["county"]
        try:
            text = decode(upload.read())
        except FileError as error:
            form.add_error("file", str(error))
            return self._upload_page(form, status=400)
        preview = read_import(text, county=county)
        confirm = ImportConfirmForm(
            counties=counties,
            initial=ImportConfirmForm.initial_for(county=county, text=text, file_name=upload.name),
        )
        return self._preview_page(preview, confirm, county, upload.name)

    def _upload_page(self, form, status=200):
        return render(
            self.request,
            "enterprises/import.html",
            {"form": form, "columns": COLUMNS},
            status=status,
        )

    def _preview_page(self, preview, confirm, county, file_name, status=None):
        return render(
            self.request,
            "enterprises/import_preview.html",
            {
                "preview": preview,
                "confirm": confirm,
                "county": county,
                "file_name": file_name,
            },
            status=status or (200 if preview.is_valid else 400),
        )


class ImportConfirmView(ImportView):
    """POST only: import the previewed file, all rows in one transaction, or nothing."""

    http_method_names = ["post"]

    def post(self, request):
        counties = self.led_counties()
        confirm = ImportConfirmForm(request.POST, counties=counties)
        if not confirm.is_valid():
            messages.error(
                request, " ".join(confirm.non_field_errors()) or _("Upload the file again.")
            )
            return redirect("enterprises:import")
        county, text = confirm.cleaned_data["county"], confirm.cleaned_data["text"]
        file_name = confirm.cleaned_data["file_name"]
        try:
            batch = services.import_enterprises(
                user=request.user, county=county, text=text, file_name=file_name
            )
        except ValidationError:
            # The register changed since the preview: show the rows as they read now.
            preview = read_import(text, county=county)
            return self._preview_page(preview, confirm, county, file_name, status=409)
        messages.success(
            request,
            _("%(file)s is imported: %(created)s new and %(updated)s changed enterprises.")
            % {"file": batch.file_name, "created": batch.created, "updated": batch.updated},
        )
        return redirect("enterprises:list")


class ExportView(ReaderMixin, View):
    """The list as CSV (its filters apply), streamed; contact persons only for those who may
    see them in every county exported."""

    def get(self, request):
        filters = _filters(request)
        enterprises = selectors.enterprise_list(user=request.user, **filters)
        counties = scoping.visible_counties(request.user)
        include_personal = all(scoping.can_see_personal_data(request.user, c) for c in counties)
        delimiter = "," if request.GET.get("delimiter") in (",", "comma") else ";"
        rows = stream_export(
            enterprises.iterator(chunk_size=500),
            include_personal=include_personal,
            delimiter=delimiter,
        )
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        name = f"asf-register-{timezone.localdate().isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
