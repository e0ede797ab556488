"""Forms of the ASF register: they parse input; services decide."""

import base64
import binascii

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.forms import BoundedDateField, DateInput
from municipalities.models import County, Municipality

from .models import Criterion, Enterprise, LegalForm, Status
from .register_csv.columns import MAX_BYTES
from .services import EnterpriseData, file_checksum
from .validators import normalise_orgnr


class MunicipalityChoices(forms.ModelMultipleChoiceField):
    def __init__(self, *args, several_counties: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.several_counties = several_counties

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.county.name})" if self.several_counties else obj.name


class EnterpriseForm(forms.Form):
    """One enterprise; ``counties``: where the user may add or keep enterprises."""

    county = forms.ModelChoiceField(label=_("County"), queryset=County.objects.none())
    name = forms.CharField(label=pgettext_lazy("ASF register", "Name"), max_length=200)
    org_number = forms.CharField(
        label=_("Organisation number"),
        max_length=20,
        help_text=_("Ten digits, NNNNNN-NNNN (organisationsnummer)."),
    )
    legal_form = forms.ChoiceField(label=_("Legal form"), choices=LegalForm.choices)
    municipalities = MunicipalityChoices(
        label=_("Municipalities where it works"),
        queryset=Municipality.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    line_of_business = forms.CharField(
        label=_("Line of business"),
        max_length=200,
        required=False,
        help_text=_("E.g. re-use and second-hand, cleaning, catering, gardening."),
    )
    places = forms.IntegerField(
        label=_("Places in work integration"),
        min_value=0,
        initial=0,
        help_text=_("Places for people in work integration (arbetsintegrering)."),
    )
    works_with_reuse = forms.BooleanField(label=_("Works with re-use"), required=False)
    criteria = forms.MultipleChoiceField(
        label=_("Tillväxtverket's criteria met"),
        choices=Criterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices, initial=Status.ACTIVE)
    registered_on = BoundedDateField(
        label=_("In the register since"), widget=DateInput, initial=timezone.localdate
    )
    closed_on = BoundedDateField(
        label=_("Closed on"),
        widget=DateInput,
        required=False,
        help_text=_("Only for a closed enterprise."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=50, required=False)

    def __init__(self, *args, counties, enterprise: Enterprise | None = None, **kwargs):
        if enterprise is not None:
            kwargs.setdefault("initial", _initial(enterprise))
        super().__init__(*args, **kwargs)
        counties = list(counties)
        self.fields["county"].queryset = County.objects.filter(pk__in=[c.pk for c in counties])
        several = len(counties) > 1
        self.fields["municipalities"].queryset = (
            Municipality.objects.filter(county__in=self.fields["county"].queryset)
            .select_related("county")
            .order_by("county__code", "name")
        )
        self.fields["municipalities"].several_counties = several
        if enterprise is not None or not several:
            # The county is the enterprise's (it stays), or the user's only one.
            self.fields["county"].widget = forms.HiddenInput()
            self.fields["county"].initial = enterprise.county if enterprise else counties[0]
            if enterprise is not None:
                self.fields["county"].queryset = County.objects.filter(pk=enterprise.county_id)

    def clean_org_number(self) -> str:
        return normalise_orgnr(self.cleaned_data["org_number"])

    def clean(self):
        data = super().clean()
        county, chosen = data.get("county"), data.get("municipalities")
        if county and chosen:
            foreign = [m.name for m in chosen if m.county_id != county.pk]
            if foreign:
                self.add_error(
                    "municipalities",
                    ValidationError(
                        _("%(names)s is not a municipality in %(county)s."),
                        params={"names": ", ".join(foreign), "county": county.name},
                    ),
                )
        return data

    def enterprise_data(self) -> EnterpriseData:
        d = self.cleaned_data
        return EnterpriseData(
            name=d["name"],
            org_number=d["org_number"],
            legal_form=d["legal_form"],
            municipalities=tuple(d["municipalities"]),
            line_of_business=d["line_of_business"],
            places=d["places"],
            works_with_reuse=d["works_with_reuse"],
            criteria=tuple(d["criteria"]),
            status=d["status"],
            registered_on=d["registered_on"],
            closed_on=d["closed_on"],
            contact_name=d["contact_name"],
            contact_email=d["contact_email"],
            contact_phone=d["contact_phone"],
        )


def _initial(enterprise: Enterprise) -> dict:
    return {
        "county": enterprise.county,
        "name": enterprise.name,
        "org_number": enterprise.org_number,
        "legal_form": enterprise.legal_form,
        "municipalities": list(enterprise.municipalities.all()),
        "line_of_business": enterprise.line_of_business,
        "places": enterprise.places,
        "works_with_reuse": enterprise.works_with_reuse,
        "criteria": list(enterprise.criteria),
        "status": enterprise.status,
        "registered_on": enterprise.registered_on,
        "closed_on": enterprise.closed_on,
        "contact_name": enterprise.contact_name,
        "contact_email": enterprise.contact_email,
        "contact_phone": enterprise.contact_phone,
    }


class ImportUploadForm(forms.Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=County.objects.none())
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 (Excel: “CSV UTF-8”), semicolons or commas between the cells, one header "
            "row; the columns are listed below. Nothing is saved before you confirm."
        ),
    )

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        counties = list(counties)
        self.fields["county"].queryset = County.objects.filter(pk__in=[c.pk for c in counties])
        if len(counties) == 1:
            self.fields["county"].widget = forms.HiddenInput()
            self.fields["county"].initial = counties[0]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)s MB: split it into smaller files."),
                params={"size": MAX_BYTES // 1_000_000},
            )
        return upload


class ImportConfirmForm(forms.Form):
    """The previewed file, sent back (base64: browsers rewrite line breaks in form fields) with
    its checksum; the import reads and checks it again."""

    county = forms.ModelChoiceField(queryset=County.objects.none(), widget=forms.HiddenInput)
    content = forms.CharField(widget=forms.HiddenInput)
    file_name = forms.CharField(widget=forms.HiddenInput, max_length=255)
    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = County.objects.filter(pk__in=[c.pk for c in counties])

    @staticmethod
    def initial_for(*, county, text: str, file_name: str) -> dict:
        return {
            "county": county.pk,
            "content": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            "file_name": file_name,
            "sha256": file_checksum(text),
        }

    def clean(self):
        data = super().clean()
        if "content" in data:
            try:
                data["text"] = base64.b64decode(data["content"], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ValidationError(_("Upload the file again."), code="unreadable") from None
            if file_checksum(data["text"]) != data.get("sha256"):
                raise ValidationError(
                    _("The file changed after its preview: upload it again."), code="changed"
                )
        return data
