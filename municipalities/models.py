"""Counties (län), municipalities (kommuner) and their contact persons."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Language(models.TextChoices):
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


class County(models.Model):
    """A Swedish county (län), identified by SCB's two-digit code."""

    code = models.CharField(
        _("county code"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^\d{2}$", _("A county code is two digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """A Swedish municipality (kommun), identified by SCB's four-digit code (kommunkod)."""

    code = models.CharField(
        _("municipality code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A municipality code is four digits."))],
        help_text=_("SCB's four-digit code, kept as text: it can start with a zero."),
    )
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("county")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{4}$"), name="municipality_code_4_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A contact person (kontaktperson) in a municipality: an officer with no account.

    Kept minimal under GDPR: what is needed to send a draft and know who answered.
    """

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.SWEDISH
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["municipality__name", "name"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "email"], name="unique_contact_email_per_municipality"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality})"
