"""The project leader voids a draft, meeting or decision: a confirm form (GET) and the POST."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from municipalities import scoping

from .flows import LEAD
from .forms import DecisionForm
from .models import Decision
from .views import form_errors_from
from .voiding import REASON_MAX_LENGTH, VOIDABLE, correct_decision, void_record


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the record voided?"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VoidRecordView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = LEAD
    template_name = "workflows/void_form.html"

    def dispatch(self, request, *args, **kwargs):
        model = VOIDABLE.get(kwargs["kind"])
        if model is None:
            raise Http404
        if request.user.is_authenticated and request.user.has_perm(LEAD):
            self.record = get_object_or_404(
                scoping.scoped_for_leading(
                    model.objects.select_related("process__municipality"),
                    request.user,
                    county_field="process__municipality__county",
                ),
                pk=kwargs["record_pk"],
                process_id=kwargs["pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk, kind, record_pk):
        return self._render(VoidForm())

    def post(self, request, pk, kind, record_pk):
        form = VoidForm(request.POST)
        if form.is_valid():
            try:
                void_record(
                    record=self.record, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("%(record)s is voided.") % {"record": self.record})
                return redirect("workflows:process", pk)
        return self._render(form, status=400)

    def _render(self, form, status=200):
        context = {"form": form, "record": self.record, "process": self.record.process}
        return render(self.request, self.template_name, context, status=status)


class CorrectDecisionForm(VoidForm, DecisionForm):
    """Why the recorded decision is wrong, and the decision as the minutes say it."""

    field_order = ["reason"]


_DECISION_FIELDS = [name for name in DecisionForm.base_fields]


class CorrectDecisionView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Void a decision and record it again on one page (GET shows the form, POST acts)."""

    permission_required = LEAD
    template_name = "workflows/decision_correct.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.has_perm(LEAD):
            self.decision = get_object_or_404(
                scoping.scoped_for_leading(
                    Decision.objects.select_related("process__municipality"),
                    request.user,
                    county_field="process__municipality__county",
                ),
                pk=kwargs["decision_pk"],
                process_id=kwargs["pk"],
                is_voided=False,
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk, decision_pk):
        initial = {name: getattr(self.decision, name) for name in _DECISION_FIELDS}
        initial["minutes_file"] = None
        return self._render(CorrectDecisionForm(initial=initial))

    def post(self, request, pk, decision_pk):
        form = CorrectDecisionForm(request.POST, request.FILES)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                correct_decision(decision=self.decision, user=request.user, reason=reason, **data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The decision is corrected."))
                return redirect("workflows:process", pk)
        return self._render(form, status=400)

    def _render(self, form, status=200):
        context = {"form": form, "decision": self.decision, "process": self.decision.process}
        return render(self.request, self.template_name, context, status=status)
