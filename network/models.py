"""The collaboration organisation of a county's ASF (samverkansorganisation): one per county
project, its members (enterprises of the register, with the dates they joined and left), its
meetings (agenda, attendance, minutes file, decisions) and its milestones."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager
from municipalities.models import County
from workflows.models import MINUTES_EXTENSIONS


class Organisation(models.Model):
    """The county's collaboration organisation; one per county (its project)."""

    county = models.OneToOneField(
        County, on_delete=models.PROTECT, related_name="network", verbose_name=_("county")
    )
    name = models.CharField(_("name"), max_length=200)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["county__code"]
        verbose_name = _("collaboration organisation")
        verbose_name_plural = _("collaboration organisations")

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """An ASF's membership: from the day it joined until the day it left (if it has)."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("organisation"),
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.PROTECT,
        related_name="network_memberships",
        verbose_name=_("ASF"),
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["enterprise__name", "joined_on"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="network_member_leaves_after_joining",
            ),
            # A member that left may join again, as a new membership; one current at a time.
            models.UniqueConstraint(
                fields=["organisation", "enterprise"],
                condition=Q(left_on__isnull=True),
                name="network_one_current_membership",
            ),
        ]

    def __str__(self) -> str:
        return str(self.enterprise)

    def is_member_on(self, day) -> bool:
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)


def minutes_path(meeting: "NetworkMeeting", filename: str) -> str:
    """A random name under network-minutes/<year>/: nothing of the uploader's name reaches the
    disk (as for decisions' minutes)."""
    extension = MINUTES_EXTENSIONS.get(meeting.minutes_content_type, "")
    return f"network-minutes/{timezone.localdate():%Y}/{uuid.uuid4().hex}{extension}"


class NetworkMeeting(models.Model):
    """A meeting of the organisation: its agenda, who attended, its minutes and decisions."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("organisation"),
    )
    held_on = models.DateField(_("date"))
    agenda = models.TextField(_("agenda"))
    decisions = models.TextField(_("decisions taken"), blank=True)
    attendees = models.ManyToManyField(
        "enterprises.Enterprise",
        blank=True,
        related_name="network_meetings",
        verbose_name=_("members present"),
    )
    minutes_file = models.FileField(_("minutes (file)"), upload_to=minutes_path, blank=True)
    minutes_file_name = models.CharField(_("minutes file name"), max_length=255, blank=True)
    minutes_content_type = models.CharField(_("minutes file type"), max_length=100, blank=True)
    minutes_sha256 = models.CharField(_("minutes file SHA-256"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    history = HistoricalRecords(m2m_fields=[attendees], history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("meeting of the collaboration organisation")
        verbose_name_plural = _("meetings of the collaboration organisation")

    def __str__(self) -> str:
        return f"{self.organisation} {self.held_on}"


class MilestoneKind(models.TextChoices):
    STATUTES_ADOPTED = "statutes_adopted", _("Statutes adopted")
    BOARD_CHOSEN = "board_chosen", _("Board chosen")
    COOMPANION_AGREEMENT = "coompanion_agreement", _("Agreement with Coompanion")
    OTHER = "other", _("Other")


class Milestone(models.Model):
    """A dated step in forming the organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="milestones",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("milestone"), max_length=30, choices=MilestoneKind.choices)
    reached_on = models.DateField(_("date"))
    description = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_("Required for “Other”: what was reached."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["reached_on", "pk"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(description=""),
                name="network_other_milestone_described",
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.get_kind_display()
