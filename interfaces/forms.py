"""The form of the integrations page: a new API token."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _


class NewTokenForm(forms.Form):
    name = forms.CharField(
        label=_("What will use the token?"),
        max_length=100,
        help_text=_("E.g. “The Region's statistics”. You see the name in the list of tokens."),
    )
    user = forms.ModelChoiceField(
        label=_("For user"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("Administrators may create a token for another user; empty: for yourself."),
    )

    def __init__(self, *args, may_choose_user: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if may_choose_user:
            self.fields["user"].queryset = (
                get_user_model().objects.filter(is_active=True).order_by("username")
            )
        else:
            del self.fields["user"]
