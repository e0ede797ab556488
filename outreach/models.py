"""Knowledge-spreading activities (kunskapsspridning) and the audience each one reached, counted
by actor type, with gender counts where the project reports them. No participant is named: the
project reports numbers, and numbers are all it keeps."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager
from municipalities.models import County, Municipality


class ActivityKind(models.TextChoices):
    SEMINAR = "seminar", _("Seminar")
    MEETING = "meeting", _("Meeting")
    STUDY_VISIT = "study_visit", _("Study visit")
    CONFERENCE = "conference", _("Conference")
    NEWSLETTER = "newsletter", _("Newsletter")
    OTHER = "other", _("Other")


class ActorType(models.TextChoices):
    """Whom the project spreads knowledge to (the aim names public and private actors)."""

    MUNICIPALITY = "municipality", _("Municipality")
    REGION = "region", _("Region")
    OTHER_PUBLIC = "other_public", _("Other public body")
    PRIVATE_COMPANY = "private_company", _("Private company")
    CIVIL_SOCIETY = "civil_society", _("Civil society")
    ASF = "asf", _("ASF (work-integration social enterprise)")


class Activity(models.Model):
    """One activity that spread knowledge of ASF: a seminar, a study visit, a newsletter…"""

    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="activities", verbose_name=_("county")
    )
    kind = models.CharField(_("kind of activity"), max_length=20, choices=ActivityKind.choices)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    organiser = models.CharField(
        _("organiser"),
        max_length=200,
        help_text=_("Who arranged it, e.g. Region Kronoberg, Coompanion or a municipality."),
    )
    description = models.TextField(_("description"), blank=True)
    municipalities = models.ManyToManyField(
        Municipality,
        blank=True,
        related_name="activities",
        verbose_name=_("municipalities involved"),
    )
    enterprises = models.ManyToManyField(
        "enterprises.Enterprise",
        blank=True,
        related_name="activities",
        verbose_name=_("ASF involved"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords(
        m2m_fields=[municipalities, enterprises], history_manager=OnceBuiltHistoryManager
    )

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["county", "held_on"], name="outreach_activity_county_day")]

    def __str__(self) -> str:
        return self.title

    @property
    def audience_in_order(self) -> list["Audience"]:
        """The audience rows in the order of the actor types (from the prefetched rows)."""
        order = {value: i for i, value in enumerate(ActorType.values)}
        return sorted(self.audience.all(), key=lambda row: order.get(row.actor_type, 99))

    @property
    def reached_total(self) -> int:
        return sum(row.total for row in self.audience.all())


class Audience(models.Model):
    """How many of one actor type an activity reached; women, men and other where reported."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="audience", verbose_name=_("activity")
    )
    actor_type = models.CharField(_("actor type"), max_length=20, choices=ActorType.choices)
    total = models.PositiveIntegerField(_("people reached"))
    women = models.PositiveIntegerField(_("women"), null=True, blank=True)
    men = models.PositiveIntegerField(_("men"), null=True, blank=True)
    other = models.PositiveIntegerField(_("other gender or not stated"), null=True, blank=True)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["activity", "actor_type"]
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "actor_type"], name="outreach_audience_one_row_per_actor_type"
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0)
                & (Q(women__isnull=True) | Q(women__gte=0))
                & (Q(men__isnull=True) | Q(men__gte=0))
                & (Q(other__isnull=True) | Q(other__gte=0)),
                name="outreach_audience_counts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    total__gte=Coalesce("women", 0) + Coalesce("men", 0) + Coalesce("other", 0)
                ),
                name="outreach_audience_genders_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_actor_type_display()}: {self.total}"

    @property
    def has_genders(self) -> bool:
        return any(n is not None for n in (self.women, self.men, self.other))
