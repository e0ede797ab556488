"""What the project leader records about a decision after the fact: an appeal, legal force."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from municipalities import scoping

from . import forms, legal_force, minutes
from .models import Decision
from .views import LeadMixin, ReadMixin, form_errors_from


@method_decorator(require_POST, name="dispatch")
class _AfterDecisionView(LeadMixin, View):
    form_class = None
    title = ""
    done = ""

    def post(self, request, pk, decision_pk):
        decision = get_object_or_404(
            scoping.scoped_for_leading(
                Decision.objects.select_related("process__municipality"),
                request.user,
                county_field="process__municipality__county",
            ),
            pk=decision_pk,
            process_id=pk,
        )
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.record(decision, request.user, form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, self.done)
                return redirect("workflows:process", pk)
        context = {"form": form, "decision": decision, "process": decision.process}
        context["title"] = self.title
        return render(request, "workflows/decision_after_form.html", context, status=400)


class RecordLegalForceView(_AfterDecisionView):
    form_class = forms.LegalForceForm

    @property
    def title(self):
        return _("Record legal force")

    @property
    def done(self):
        return _("Legal force is recorded.")

    def record(self, decision, user, data):
        legal_force.record_legal_force(decision=decision, user=user, **data)


class RecordAppealView(_AfterDecisionView):
    form_class = forms.AppealForm

    @property
    def title(self):
        return _("Record an appeal")

    @property
    def done(self):
        return _("The appeal is recorded.")

    def record(self, decision, user, data):
        legal_force.record_appeal(decision=decision, user=user, **data)


class MinutesFileView(ReadMixin, View):
    """The minutes file of a decision, to project leaders and the steering group only, always
    as a download under a name built from the record (never the uploader's)."""

    def get(self, request, pk, decision_pk):
        decision = get_object_or_404(
            scoping.scoped_with_personal_data(
                Decision.objects.select_related("process__municipality"),
                request.user,
                county_field="process__municipality__county",
            ),
            pk=decision_pk,
            process_id=pk,
        )
        if not decision.minutes_file:
            raise Http404
        try:
            handle = decision.minutes_file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=minutes.download_name(decision),
            content_type=decision.minutes_content_type or "application/octet-stream",
        )
