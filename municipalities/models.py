"""Counties (län), municipalities (kommuner) and their contact persons."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager


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
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

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
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

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
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

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


class CountyProject(models.Model):
    """A county's ASF project (the unit a Region runs): its leaders, steering and reference groups.

    One per county; the county's municipalities are the project's. Who may read or act on a
    county's data is decided by a `Membership` in its project (see `municipalities.scoping`).
    """

    county = models.OneToOneField(
        County, on_delete=models.PROTECT, related_name="project", verbose_name=_("county")
    )
    name = models.CharField(_("name"), max_length=200, help_text=_('E.g. "ASF i Kronoberg".'))
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["county__code"]
        verbose_name = _("county project")
        verbose_name_plural = _("county projects")
        permissions = [
            # The national reader's permission (the "National readers" group): every county,
            # read-only, without contact persons' personal data.
            ("view_all_counties", _("Can read every county's projects (national reader)")),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one county's project; a user may have a role in several counties."""

    class Role(models.TextChoices):
        LEADER = "leader", _("project leader")
        STEERING = "steering", _("steering group")
        REFERENCE = "reference", _("reference group")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="county_memberships",
        verbose_name=_("user"),
    )
    project = models.ForeignKey(
        CountyProject,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("county project"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["project__county__code", "role", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project"], name="unique_membership_per_project"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["leader", "steering", "reference"]),
                name="membership_role_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} ({self.project})"
