"""The ASF register: work-integration social enterprises (arbetsintegrerande sociala företag)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager
from municipalities.models import County, Municipality

from .validators import ORGNR_STORED, validate_orgnr


class LegalForm(models.TextChoices):
    ECONOMIC_ASSOCIATION = "ekonomisk_forening", _("Economic association (ekonomisk förening)")
    LIMITED_COMPANY = "aktiebolag", _("Limited company (aktiebolag)")
    # Aktiebolag med särskild vinstutdelningsbegränsning (svb): a limited company whose profit
    # distribution is restricted by its articles (ABL 32 kap.).
    LIMITED_COMPANY_SVB = (
        "aktiebolag_svb",
        _("Limited company with restricted profit distribution (svb)"),
    )
    NON_PROFIT_ASSOCIATION = "ideell_forening", _("Non-profit association (ideell förening)")
    FOUNDATION = "stiftelse", _("Foundation (stiftelse)")
    OTHER = "annan", _("Other legal form")


class Status(models.TextChoices):
    STARTING = "starting", pgettext_lazy("ASF status", "Starting")
    ACTIVE = "active", pgettext_lazy("ASF status", "Active")
    CLOSED = "closed", pgettext_lazy("ASF status", "Closed")


class Criterion(models.TextChoices):
    """Tillväxtverket's definition of an ASF: the four criteria an enterprise may meet."""

    INTEGRATION = (
        "integration",
        _("Main purpose: integrating people far from the labour market into work and society"),
    )
    PARTICIPATION = (
        "participation",
        _(
            "Creates participation for its employees through ownership, agreements or in another "
            "well-documented way"
        ),
    )
    REINVESTMENT = (
        "reinvestment",
        _("Reinvests its profits mainly in its own or similar activities"),
    )
    INDEPENDENCE = "independence", _("Independent of the public sector")


class CriteriaSet(list):
    """The criteria met, in the definition's order; names itself for the audit trail's reader
    (`audit.readable` reads a custom field's value through its ``label``)."""

    @property
    def label(self) -> str:
        return "; ".join(str(Criterion(code).label) for code in self if code in Criterion.values)


def criteria_in_order(codes) -> CriteriaSet:
    chosen = set(codes or ())
    return CriteriaSet(code for code in Criterion.values if code in chosen)


class CriteriaField(models.JSONField):
    """A set of `Criterion` codes, stored as a JSON list in the definition's order (a JSON list
    works on SQLite and PostgreSQL alike, unlike an array column)."""

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return criteria_in_order(value) if isinstance(value, list) else value

    def to_python(self, value):
        value = super().to_python(value)
        return criteria_in_order(value) if isinstance(value, list | tuple | set) else value

    def get_prep_value(self, value):
        if isinstance(value, list | tuple | set | frozenset):
            value = list(criteria_in_order(value))
        return super().get_prep_value(value)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValidationError(_("Criteria are a list of Tillväxtverket's criteria."))
        unknown = sorted(set(value) - set(Criterion.values))
        if unknown:
            raise ValidationError(
                _("Unknown criterion: %(codes)s."), params={"codes": ", ".join(map(str, unknown))}
            )


def _today() -> datetime.date:
    return timezone.localdate()


class Enterprise(models.Model):
    """A work-integration social enterprise (arbetsintegrerande socialt företag, ASF) in the
    register of one county's project."""

    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(
        _("organisation number"),
        max_length=11,
        unique=True,
        validators=[validate_orgnr],
        help_text=_("Ten digits, NNNNNN-NNNN (organisationsnummer)."),
    )
    legal_form = models.CharField(_("legal form"), max_length=20, choices=LegalForm.choices)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("county")
    )
    municipalities = models.ManyToManyField(
        Municipality,
        related_name="enterprises",
        verbose_name=_("municipalities where it works"),
    )
    line_of_business = models.CharField(_("line of business"), max_length=200, blank=True)
    places = models.PositiveIntegerField(
        _("places in work integration"),
        default=0,
        help_text=_("Places for people in work integration (arbetsintegrering)."),
    )
    works_with_reuse = models.BooleanField(_("works with re-use"), default=False)
    criteria = CriteriaField(_("Tillväxtverket's criteria met"), default=CriteriaSet, blank=True)
    # The business contact: personal data, kept minimal (GDPR) and not shown to the
    # reference group.
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    registered_on = models.DateField(
        _("in the register since"),
        default=_today,
        help_text=_("The date the enterprise entered the register (counts as new from then)."),
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    history = HistoricalRecords(
        m2m_fields=[municipalities], history_manager=OnceBuiltHistoryManager
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("work-integration social enterprise")
        verbose_name_plural = _("work-integration social enterprises")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(org_number__regex=ORGNR_STORED),
                name="enterprise_org_number_format",
            ),
            models.CheckConstraint(
                condition=models.Q(places__gte=0), name="enterprise_places_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="enterprise_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(legal_form__in=LegalForm.values),
                name="enterprise_legal_form_known",
            ),
            # A closed enterprise has the date it closed, and only a closed one has it.
            models.CheckConstraint(
                condition=(
                    models.Q(status=Status.CLOSED, closed_on__isnull=False)
                    | (~models.Q(status=Status.CLOSED) & models.Q(closed_on__isnull=True))
                ),
                name="enterprise_closed_on_iff_closed",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_on__isnull=True)
                | models.Q(closed_on__gte=models.F("registered_on")),
                name="enterprise_closed_after_registered",
            ),
        ]
        indexes = [models.Index(fields=["county", "status"], name="enterprise_county_status")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.status == Status.CLOSED and self.closed_on is None:
            errors["closed_on"] = _("A closed enterprise needs the date it closed.")
        if self.status != Status.CLOSED and self.closed_on is not None:
            errors["closed_on"] = _("Only a closed enterprise has a closing date.")
        if self.closed_on and self.registered_on and self.closed_on < self.registered_on:
            errors["closed_on"] = _("The closing date cannot be before it entered the register.")
        if errors:
            raise ValidationError(errors)

    @property
    def criteria_labels(self) -> list[str]:
        return [str(Criterion(code).label) for code in criteria_in_order(self.criteria)]


class ImportBatch(models.Model):
    """One CSV import into the register, confirmed by a project leader: on the record as one
    event, and named in the reason of every enterprise it created or changed."""

    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("checksum (SHA-256)"), max_length=64)
    rows = models.PositiveIntegerField(_("rows"))
    created = models.PositiveIntegerField(_("new enterprises"))
    updated = models.PositiveIntegerField(_("changed enterprises"))
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d})"
