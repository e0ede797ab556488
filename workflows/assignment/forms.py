"""Forms of handing work over: one step or process to a colleague, or a person's chosen work."""

from django import forms
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

from ..models import PolicyProcess

NOTE_MAX_LENGTH = 1000


class ColleagueField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def _note_field():
    return forms.CharField(
        label=_("Note to your colleague (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It is kept on the process's record and sent with the email."),
    )


class HandOverForm(forms.Form):
    """Hand a step or a process to another project leader of the county."""

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"] = ColleagueField(
            queryset=colleagues,
            label=_("Hand over to"),
            empty_label=_("Choose a project leader"),
            error_messages={"invalid_choice": _("Choose an active project leader of the county.")},
        )
        self.fields["note"] = _note_field()


class ReassignForm(forms.Form):
    """Take over chosen steps and processes of one person (while they are away, or after they
    left): to whom, which items, and a note."""

    def __init__(self, *args, colleagues, work, **kwargs):
        super().__init__(*args, **kwargs)
        self.work = work
        self.fields["to_user"] = ColleagueField(
            queryset=colleagues,
            label=_("Give the chosen work to"),
            empty_label=_("Choose a project leader"),
            error_messages={"invalid_choice": _("Choose an active project leader of the county.")},
        )
        self.fields["tasks"] = forms.ModelMultipleChoiceField(
            queryset=Task.objects.filter(pk__in=[t.pk for t in work.tasks]),
            required=False,
            label=_("Open steps"),
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["processes"] = forms.ModelMultipleChoiceField(
            queryset=PolicyProcess.objects.filter(pk__in=[p.pk for p in work.processes]),
            required=False,
            label=_("Processes they are responsible for"),
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["note"] = _note_field()

    def clean(self):
        data = super().clean()
        if not data.get("tasks") and not data.get("processes"):
            raise forms.ValidationError(_("Choose at least one step or process to reassign."))
        return data
