"""Pages of knowledge spreading: the list, an activity, and the form project leaders record and
correct activities with. Thin: parse, call a selector or a service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from municipalities import scoping
from workflows.views import ReadMixin, form_errors_from

from . import forms, selectors, services
from .models import Activity

PAGE_SIZE = 25


class ActivityListView(ReadMixin, TemplateView):
    template_name = "outreach/activity_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        county = selectors.county_for_reading(user=user, code=self.request.GET.get("county"))
        page = Paginator(selectors.activity_list(user=user, county=county), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(
            page=page,
            county=county,
            counties=list(scoping.visible_counties(user)),
            led_counties=list(scoping.led_counties(user)),
            query=f"county={county.code}" if county else "",
            **kwargs,
        )


class ActivityDetailView(ReadMixin, TemplateView):
    template_name = "outreach/activity_detail.html"

    def get_context_data(self, pk, **kwargs):
        activity = selectors.activity_detail(user=self.request.user, pk=pk)
        return super().get_context_data(
            activity=activity,
            can_lead=scoping.can_lead(self.request.user, activity.county_id),
            **kwargs,
        )


class _ActivityFormView(ReadMixin, View):
    """Shared by recording and correcting: the activity's form and its audience table."""

    template_name = "outreach/activity_form.html"

    def _forms(self, county, activity=None, data=None):
        initial = {}
        if activity is not None:
            initial = {
                "kind": activity.kind,
                "title": activity.title,
                "held_on": activity.held_on,
                "organiser": activity.organiser,
                "description": activity.description,
                "municipalities": list(activity.municipalities.all()),
                "enterprises": list(activity.enterprises.all()),
            }
        form = forms.ActivityForm(
            data,
            initial=initial,
            county=county,
            enterprises=selectors.enterprise_choices(county=county),
        )
        return form, forms.audience_formset(data, activity=activity)

    def _render(self, request, form, audience, county, activity=None, status=200):
        context = {"form": form, "audience": audience, "county": county, "activity": activity}
        return render(request, self.template_name, context, status=status)

    def _save(self, request, county, activity=None):
        form, audience = self._forms(county, activity, request.POST)
        form_is_valid, audience_is_valid = form.is_valid(), audience.is_valid()
        if not audience_is_valid:
            # In the error summary at the top too (and "Error" in the title): the table's own
            # messages are further down the page.
            form.add_error(None, _("Check the numbers of people reached."))
        if form_is_valid and audience_is_valid:
            data = form.cleaned_data
            fields = {
                "user": request.user,
                "kind": data["kind"],
                "title": data["title"],
                "held_on": data["held_on"],
                "organiser": data["organiser"],
                "description": data["description"],
                "municipalities": data["municipalities"],
                "enterprises": data["enterprises"],
                "audience": audience.audience(),
            }
            try:
                if activity is None:
                    saved = services.record_activity(county=county, **fields)
                    messages.success(request, _("The activity is recorded."))
                else:
                    saved = services.update_activity(activity=activity, **fields)
                    messages.success(request, _("The activity is updated."))
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                return redirect("outreach:activity", saved.pk)
        return self._render(request, form, audience, county, activity, status=400)


class ActivityCreateView(_ActivityFormView):
    def _county(self, request):
        source = request.POST if request.method == "POST" else request.GET
        return selectors.county_for_leading(user=request.user, code=source.get("county"))

    def get(self, request):
        county = self._county(request)
        form, audience = self._forms(county)
        return self._render(request, form, audience, county)

    def post(self, request):
        return self._save(request, self._county(request))


class ActivityEditView(_ActivityFormView):
    def _activity(self, request, pk) -> Activity:
        activity = selectors.activity_detail(user=request.user, pk=pk)
        if not scoping.can_lead(request.user, activity.county_id):
            raise PermissionDenied
        return activity

    def get(self, request, pk):
        activity = self._activity(request, pk)
        form, audience = self._forms(activity.county, activity)
        return self._render(request, form, audience, activity.county, activity)

    def post(self, request, pk):
        activity = self._activity(request, pk)
        return self._save(request, activity.county, activity)
