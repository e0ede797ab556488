"""The delivery log's filter form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DeliveryStatus


class DeliveryLogFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *DeliveryStatus.choices],
    )
    topic = forms.CharField(
        label=_("Topic"),
        required=False,
        max_length=100,
        help_text=_('For example "process:12" for one process.'),
    )


class EmailPreferenceForm(forms.Form):
    how = forms.ChoiceField(
        label=_("How do you want to hear about your work?"),
        choices=[
            ("each", _("An email for each event (a step for you, an answer, a decision)")),
            ("daily", _("One email a day, in the morning, listing the day's news")),
        ],
        widget=forms.RadioSelect,
    )
