"""Thin views of export jobs: the page that asks for one (GET shows what will be made, POST
makes the job), the job's page (progress, then the download link) and the download."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from . import selectors, services
from .models import Kind, Status

# What the request page passes on, per kind (everything else in the query is dropped).
PARAMS = {
    Kind.AUDIT_CSV: ("delimiter",),
    Kind.AUDIT_ARCHIVE: (),
    Kind.COUNTY_REPORT: ("county",),
    Kind.MUNICIPALITY_REPORT: ("municipality",),
}


# The longest parameter passed on (the timeline's filters, URL-encoded, are far shorter).
MAX_PARAM_CHARS = 4000


def _kind(kind: str) -> Kind:
    if kind not in Kind.values:
        raise Http404
    return Kind(kind)


class RequestExportView(LoginRequiredMixin, TemplateView):
    """GET: what the export will hold and the "Create the export" button; POST: the job."""

    template_name = "exports/request.html"

    def _params(self, data, kind: Kind) -> dict:
        params = {name: data.get(name, "") for name in PARAMS[kind]}
        if kind in services.AUDIT_KINDS:
            # The timeline's filters, as they were on its page.
            params["query"] = data.get("query", "")
        if any("\x00" in value or len(value) > MAX_PARAM_CHARS for value in params.values()):
            raise ValidationError(_("Invalid filters."))
        return params

    def get(self, request, kind):
        try:
            return super().get(request, kind=kind)
        except ValidationError as error:
            return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")

    def get_context_data(self, kind, **kwargs):
        kind = _kind(kind)
        return super().get_context_data(
            kind=kind, params=self._params(self.request.GET, kind), **kwargs
        )

    def post(self, request, kind):
        kind = _kind(kind)
        try:
            job = services.request_export(
                user=request.user, kind=kind, params=self._params(request.POST, kind)
            )
        except ValidationError as error:
            return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")
        return redirect("exports:job", job.pk, permanent=False)


class JobView(LoginRequiredMixin, TemplateView):
    template_name = "exports/job.html"

    def get_context_data(self, pk, **kwargs):
        job = selectors.job_for(self.request.user, pk)
        if not job.is_finished and services.needs_enqueue(job):
            # Its message was lost (Redis was down when it was asked for): publish it again.
            services.enqueue(job.pk)
        return super().get_context_data(
            job=job,
            is_done=job.status == Status.DONE,
            is_failed=job.status == Status.FAILED,
            # A report is one document: its page shows no row count.
            counts_rows=job.kind in services.AUDIT_KINDS,
            **kwargs,
        )


class DownloadView(LoginRequiredMixin, View):
    """The file, streamed from storage; each download is on the record."""

    def get(self, request, pk):
        job = selectors.job_for(request.user, pk)
        if job.status != Status.DONE or not job.file:
            raise Http404(_("The export has no file (yet)."))
        try:
            handle = job.file.open("rb")
        except OSError as error:
            raise Http404(_("The export has no file (yet).")) from error
        services.note_download(job=job, user=request.user)
        response = FileResponse(
            handle, as_attachment=True, filename=job.file_name, content_type=job.content_type
        )
        response["Cache-Control"] = "private, no-store"
        return response
