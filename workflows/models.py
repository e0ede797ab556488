"""Process data of the policy adoption: one process per municipality, its records and drafts."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from viewflow.workflow.models import Process, Task

from audit.history import OnceBuiltHistoryManager
from municipalities.models import Contact, Municipality

from . import legal_dates


class Stage(models.TextChoices):
    """Where a municipality stands, named by the municipal fact that put it there."""

    CONTACT = "contact", _("Awaiting first contact")
    DIALOGUE = "dialogue", _("In dialogue")
    DRAFTING = "drafting", _("Draft being written")
    AWAITING_APPROVAL = "awaiting_approval", _("Draft sent to the municipality")
    AWAITING_DECISION = "awaiting_decision", _("Draft approved, awaiting decision")
    ADOPTED = "adopted", _("Policy adopted")
    REJECTED = "rejected", _("Policy rejected")


CLOSED_STAGES = [Stage.ADOPTED, Stage.REJECTED]


class PolicyProcess(Process):
    """One municipality's path to an ASF policy (viewflow process with its own columns)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="policy_processes",
        verbose_name=_("municipality"),
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_processes",
        verbose_name=_("project leader"),
    )
    stage = models.CharField(
        _("stage"), max_length=32, choices=Stage.choices, default=Stage.CONTACT, db_index=True
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    approvers = models.ManyToManyField(
        Contact,
        blank=True,
        related_name="processes_to_approve",
        verbose_name=_("contact persons who approve"),
    )
    history = HistoricalRecords(m2m_fields=[approvers], history_manager=OnceBuiltHistoryManager)

    class Meta:
        verbose_name = _("policy process")
        verbose_name_plural = _("policy processes")
        permissions = [
            ("lead_policyprocess", _("Can lead policy processes (project leader)")),
            ("follow_policyprocess", _("Can follow policy processes (steering group)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality"],
                condition=~models.Q(stage__in=["adopted", "rejected"]),
                name="one_open_process_per_municipality",
                violation_error_message=_("This municipality already has an open process."),
            ),
        ]
        indexes = [
            # A step's county, read from the index alone: the inbox joins its few open steps to
            # their processes one lookup each, where PostgreSQL otherwise reads and hashes every
            # process ever started (10,000 at country scale) for the municipality of each.
            models.Index(
                fields=["process_ptr"], include=["municipality"], name="process_municipality"
            ),
        ]

    def __str__(self) -> str:
        return str(_("ASF policy – %(municipality)s") % {"municipality": self.municipality})

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED_STAGES


class Voidable(models.Model):
    """A record that is voided (makulerad) with a reason when it was a mistake, never deleted."""

    is_voided = models.BooleanField(_("voided"), default=False)
    voided_reason = models.TextField(_("reason for voiding"), blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)

    class Meta:
        abstract = True


def void_constraint(name: str) -> models.CheckConstraint:
    """A voided record names who voided it, when and why; a live one has none of these."""
    return models.CheckConstraint(
        condition=(
            models.Q(
                is_voided=False, voided_at__isnull=True, voided_by__isnull=True, voided_reason=""
            )
            | (
                models.Q(is_voided=True, voided_at__isnull=False, voided_by__isnull=False)
                & ~models.Q(voided_reason="")
            )
        ),
        name=name,
    )


class ContactChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Meeting")
    VIDEO = "video", _("Video call")
    OTHER = "other", _("Other")


class FirstContact(models.Model):
    """The first contact with the municipality: when, how, with whom."""

    process = models.ForeignKey(
        PolicyProcess, on_delete=models.PROTECT, related_name="first_contacts"
    )
    contacted_on = models.DateField(_("date of contact"))
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices)
    contacts = models.ManyToManyField(
        Contact, related_name="first_contacts", verbose_name=_("contact persons")
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords(m2m_fields=[contacts], history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["recorded_at"]
        verbose_name = _("first contact")
        verbose_name_plural = _("first contacts")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.contacted_on}"


class Meeting(Voidable):
    """A meeting or conversation in the dialogue with the municipality."""

    process = models.ForeignKey(PolicyProcess, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField(_("date"))
    participants = models.TextField(_("participants"))
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["held_on", "recorded_at"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [void_constraint("meeting_void_is_complete")]

    def __str__(self) -> str:
        return f"{self.held_on}: {self.participants[:50]}"


class PolicyTemplate(models.Model):
    """The text a first draft starts from; editable by an administrator."""

    name = models.CharField(_("name"), max_length=200)
    competition_section = models.TextField(_("competition-law section"))
    customer_section = models.TextField(_("customer section"))
    other_text = models.TextField(_("other text"), blank=True)
    is_default = models.BooleanField(_("default template"), default=False)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("policy template")
        verbose_name_plural = _("policy templates")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_policy_template",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyDraft(Voidable):
    """One version of the policy draft. Versions are never changed once written."""

    process = models.ForeignKey(PolicyProcess, on_delete=models.PROTECT, related_name="drafts")
    version = models.PositiveIntegerField(_("version"))
    competition_section = models.TextField(_("competition-law section"))
    customer_section = models.TextField(_("customer section"))
    other_text = models.TextField(_("other text"), blank=True)
    change_note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["process", "version"]
        verbose_name = _("policy draft")
        verbose_name_plural = _("policy drafts")
        constraints = [
            models.UniqueConstraint(fields=["process", "version"], name="unique_draft_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="draft_version_gte_1"),
            void_constraint("draft_void_is_complete"),
        ]

    def __str__(self) -> str:
        return str(_("Draft v%(version)s") % {"version": self.version})


class AnswerKind(models.TextChoices):
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class ApprovalAnswer(models.Model):
    """A municipal contact's answer to a draft: approve, or ask for changes with a comment."""

    process = models.ForeignKey(
        PolicyProcess, on_delete=models.PROTECT, related_name="approval_answers"
    )
    draft = models.ForeignKey(PolicyDraft, on_delete=models.PROTECT, related_name="answers")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="approval_answers")
    answer = models.CharField(_("answer"), max_length=32, choices=AnswerKind.choices)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    via_link = models.ForeignKey(
        "TaskLink",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
        verbose_name=_("answered through task link"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by (answer received another way)"),
    )
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["answered_at"]
        verbose_name = _("approval answer")
        verbose_name_plural = _("approval answers")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(answer="changes_requested") | ~models.Q(comment=""),
                name="changes_requested_needs_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_answer_display()} ({self.contact_id})"


class DecisionBody(models.TextChoices):
    KS = "ks", _("Municipal executive board (KS)")
    KF = "kf", _("Municipal council (KF)")
    OTHER = "other", _("Other body")


class DecisionOutcome(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Rejected")
    SENT_BACK = "sent_back", _("Sent back (återremiss)")
    POSTPONED = "postponed", _("Postponed")


# A matter sent back or postponed is not decided: nothing of it gains legal force.
SETTLING_OUTCOMES = (DecisionOutcome.ADOPTED, DecisionOutcome.REJECTED)


def legal_force_due(today) -> Q:
    """Decisions whose appeal period ran out before ``today`` with no appeal and no legal force
    recorded: the leader is asked to record legal force (`Decision.appeal_period_is_over`)."""
    return Q(
        is_voided=False,
        outcome__in=SETTLING_OUTCOMES,
        appeal_deadline__lt=today,
        legal_force_date__isnull=True,
        appeal_case_number="",
    )


MINUTES_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


def minutes_path(decision: "Decision", filename: str) -> str:
    """A random name under minutes/<year>/: nothing of the uploader's name reaches the disk."""
    extension = MINUTES_EXTENSIONS.get(decision.minutes_content_type, "")
    return f"minutes/{timezone.localdate():%Y}/{uuid.uuid4().hex}{extension}"


class Decision(Voidable):
    """The municipality's formal decision on the policy, as recorded in its minutes."""

    process = models.ForeignKey(PolicyProcess, on_delete=models.PROTECT, related_name="decisions")
    body = models.CharField(_("decision body"), max_length=8, choices=DecisionBody.choices)
    body_other = models.CharField(_("other body"), max_length=200, blank=True)
    meeting_date = models.DateField(_("meeting date"))
    paragraph = models.CharField(_("paragraph (§)"), max_length=20)
    case_number = models.CharField(
        _("case number (diarienummer)"),
        max_length=100,
        help_text=_("As the municipality writes it, e.g. “KS 2025/39”."),
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=DecisionOutcome.choices)
    certification_date = models.DateField(_("minutes certified (justerat)"), null=True, blank=True)
    announcement_date = models.DateField(_("announced on the notice board"), null=True, blank=True)
    appeal_deadline = models.DateField(_("appeal deadline"), null=True, blank=True, editable=False)
    legal_force_date = models.DateField(_("legally binding from"), null=True, blank=True)
    # An appeal (laglighetsprövning) holds legal force open until the court's ruling has it.
    appeal_case_number = models.CharField(
        _("appeal: the court's case number"), max_length=100, blank=True
    )
    appeal_lodged_on = models.DateField(_("appeal lodged"), null=True, blank=True)
    minutes_url = models.URLField(_("link to the minutes"), blank=True)
    minutes_file = models.FileField(_("minutes (file)"), upload_to=minutes_path, blank=True)
    # The uploaded file's own name (for a safe download name), its type read from its content,
    # and its SHA-256 (the archive export lists it): workflows.minutes checks and fills them.
    minutes_file_name = models.CharField(_("minutes file name"), max_length=255, blank=True)
    minutes_content_type = models.CharField(_("minutes file type"), max_length=100, blank=True)
    minutes_sha256 = models.CharField(_("minutes file SHA-256"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["recorded_at"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(body="other") | ~models.Q(body_other=""),
                name="other_body_is_named",
            ),
            void_constraint("decision_void_is_complete"),
            models.CheckConstraint(
                condition=models.Q(appeal_case_number="", appeal_lodged_on__isnull=True)
                | (~models.Q(appeal_case_number="") & models.Q(appeal_lodged_on__isnull=False)),
                name="decision_appeal_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body_label} {self.meeting_date} § {self.paragraph}"

    def save(self, *args, **kwargs):
        # Fixed by law: three weeks from the announcement, moved past days off (legal_dates).
        self.appeal_deadline = (
            legal_dates.appeal_deadline(self.announcement_date) if self.announcement_date else None
        )
        super().save(*args, **kwargs)

    @property
    def body_label(self) -> str:
        return decision_body_label(self)

    @property
    def is_appealed(self) -> bool:
        return bool(self.appeal_case_number)

    @property
    def appeal_period_is_over(self) -> bool:
        """Whether the appeal deadline has passed with no appeal recorded and no legal force yet:
        the project leader can now record legal force (from the day after the deadline). The
        same rule as `legal_force_due`, for one loaded decision."""
        return bool(
            not self.is_voided
            and self.outcome in SETTLING_OUTCOMES
            and self.appeal_deadline
            and self.appeal_deadline < timezone.localdate()
            and not self.legal_force_date
            and not self.is_appealed
        )

    @property
    def awaits_legal_force(self) -> bool:
        """A live decision with an appeal period whose legal force is not recorded yet."""
        return bool(not self.is_voided and self.appeal_deadline and not self.legal_force_date)

    @property
    def legal_force_suggestion(self) -> datetime.date | None:
        """The day legal force comes when nobody appealed: the day after the deadline."""
        if self.appeal_period_is_over:
            return self.appeal_deadline + datetime.timedelta(days=1)
        return None

    @property
    def paragraph_label(self) -> str:
        """The paragraph as printed, "§ 7", with one "§" (a row recorded before the service
        stripped a typed "§" would otherwise read "§ § 7")."""
        return f"§ {self.paragraph.strip().lstrip('§').strip()}"


def decision_body_label(decision) -> str:
    """The body that decided: KS, KF, or the one named when it was another (a Decision or one
    of its history records)."""
    if decision.body == DecisionBody.OTHER:
        return decision.body_other
    return decision.get_body_display()


class TaskLinkStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    # The emailed URL was requested, by the contact's browser or by a mail system scanning it.
    FETCHED = "fetched", _("Fetched")
    # The page was shown in the browser session that followed the link: the contact's.
    OPENED = "opened", _("Opened")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    CLOSED = "closed", _("Step closed")

    @classmethod
    def live(cls) -> frozenset:
        """The statuses in which a link can still answer its task, so can still be revoked."""
        return frozenset({cls.SENT, cls.FETCHED, cls.OPENED})


class TaskLink(models.Model):
    """An emailed link that lets one municipal contact answer one approval task.

    The link is the contact's credential: bound to one task and one person, expiring and
    single-use. Only the SHA-256 of its token is stored; the token itself lives in the URL.
    """

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="+")
    process = models.ForeignKey(PolicyProcess, on_delete=models.PROTECT, related_name="task_links")
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="task_links", verbose_name=_("contact")
    )
    draft = models.ForeignKey(
        PolicyDraft, on_delete=models.PROTECT, related_name="task_links", verbose_name=_("draft")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    expires_at = models.DateTimeField(_("expires"))
    # A GET of the emailed URL (mail scanners make them too) vs the page shown in the session
    # that followed it: only the second says the contact opened the draft.
    first_fetched_at = models.DateTimeField(_("first fetched"), null=True, blank=True)
    first_opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)
    # The token's hash is a credential too: it stays out of the history.
    history = HistoricalRecords(
        excluded_fields=["token_hash"], history_manager=OnceBuiltHistoryManager
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("task link")
        verbose_name_plural = _("task links")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="task_link_not_both_used_and_revoked",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Task link for %(contact)s") % {"contact": self.contact.name})

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    def status(self, *, task_is_open: bool = True) -> TaskLinkStatus:
        if self.used_at:
            return TaskLinkStatus.USED
        if self.revoked_at:
            return TaskLinkStatus.REVOKED
        if not task_is_open:
            return TaskLinkStatus.CLOSED
        if self.is_expired:
            return TaskLinkStatus.EXPIRED
        if self.first_opened_at:
            return TaskLinkStatus.OPENED
        if self.first_fetched_at:
            return TaskLinkStatus.FETCHED
        return TaskLinkStatus.SENT


class StageLimit(models.Model):
    """How long a municipality may stay in a stage before the process counts as stalled.

    Editable by an administrator; reminders and the county overview read it.
    """

    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices, unique=True)
    days = models.PositiveIntegerField(_("days"))
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["stage"]
        verbose_name = _("stage limit")
        verbose_name_plural = _("stage limits")
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gte=1), name="stage_limit_days_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.days}"


class HandoverKind(models.TextChoices):
    CLAIMED = "claimed", _("Step claimed")
    STEP = "step", _("Step handed over")
    PROCESS = "process", _("Process handed over")


def new_batch() -> str:
    return uuid.uuid4().hex


class Handover(models.Model):
    """A step or a whole process given to a project leader (*överlämning*): by whom, from whom,
    to whom, with the giver's note. Written once by `workflows.assignment.services`, never
    changed; one action (a bulk reassignment too) shares a ``batch`` and sends one email."""

    process = models.ForeignKey(PolicyProcess, on_delete=models.PROTECT, related_name="handovers")
    # The step handed over; empty when the process's responsibility was handed over.
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=HandoverKind.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    note = models.TextField(_("note"), blank=True)
    # Text, not a UUIDField: the audit digest reads every field type alike on every database.
    batch = models.CharField(max_length=32, default=new_batch, db_index=True, editable=False)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        constraints = [
            # A handed-over step names its step; a process handover names none.
            models.CheckConstraint(
                condition=Q(kind="process", task__isnull=True)
                | (~Q(kind="process") & Q(task__isnull=False)),
                name="handover_names_its_step",
            ),
            # A claim takes an unassigned step; a handover changes hands.
            models.CheckConstraint(
                condition=Q(kind="claimed", from_user__isnull=True) | ~Q(kind="claimed"),
                name="handover_claim_takes_unassigned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to_user}"


class ProcessStageTime(models.Model):
    """How long one process has spent in one stage, and when it first entered it: a summary of
    the process history that the county overview's figures read (``workflows.stage_summary``).

    Not the record: the process history (simple-history) is the source of truth. This table is
    written in the same transaction as each history record of a process and can be rebuilt from
    the history at any time (``manage.py rebuild_stage_times``); nothing reads it to decide
    anything, and nothing audits it.
    """

    process = models.ForeignKey(PolicyProcess, on_delete=models.CASCADE, related_name="+")
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices)
    first_entered_at = models.DateTimeField(_("first entered"))
    # The stays that have ended, added up; the current stay counts from ``entered_at`` on.
    spent = models.DurationField(_("time spent"), default=datetime.timedelta)
    spent_days = models.PositiveIntegerField(_("whole days spent"), default=0)  # spent.days
    # Set while the process is in this stage: when its current stay began.
    entered_at = models.DateTimeField(_("in this stage since"), null=True, blank=True)

    class Meta:
        verbose_name = _("time of a process in a stage")
        verbose_name_plural = _("times of processes in stages")
        constraints = [
            models.UniqueConstraint(fields=["process", "stage"], name="one_stage_time_per_stage"),
        ]
        indexes = [
            models.Index(fields=["municipality", "stage"], name="stage_time_scope"),
            # The overview's figures read a county's ended stays (counted per stage and whole
            # days, with the smallest process id) and its current stays: each through an index
            # of those rows alone, the ended ones covering what is counted (an index-only scan
            # in PostgreSQL), instead of the whole country's table. `include` is PostgreSQL's;
            # SQLite indexes the fields.
            models.Index(
                fields=["municipality", "stage", "spent_days"],
                include=["process"],
                condition=models.Q(entered_at__isnull=True),
                name="stage_time_ended",
            ),
            models.Index(
                fields=["stage", "municipality"],
                condition=models.Q(entered_at__isnull=False),
                name="stage_time_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.process_id}: {self.stage}"


class MunicipalityStageReached(models.Model):
    """When a municipality first reached a stage: by being in it or, for a stage before the end,
    in any later one (a process created in a later stage passed the earlier ones). The overview's
    progress by month counts these rows per month (at most 7 per municipality) instead of reading
    the whole history. Derived like `ProcessStageTime`, in the same transaction, from the same
    history records: not the record.
    """

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices)
    reached_at = models.DateTimeField(_("first reached"))

    class Meta:
        verbose_name = _("stage reached by a municipality")
        verbose_name_plural = _("stages reached by municipalities")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "stage"], name="one_reached_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.stage}"


class CurrentProcess(models.Model):
    """Each municipality's current process: the open one, else the latest closed one (by when it
    was created). The boards read these 290 rows (the process's stage through them) instead of
    sorting every process of every municipality's history on each request
    (``workflows.stage_summary`` keeps it with the process's history records, in the same
    transaction: a statement when a process starts, closes or reopens, none when it moves on).

    Not the record: derived from the processes, rebuilt with the stage summary
    (``manage.py rebuild_stage_times``).
    """

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, primary_key=True, related_name="current_process"
    )
    process = models.ForeignKey(PolicyProcess, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("current process of a municipality")
        verbose_name_plural = _("current processes of municipalities")

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.process_id}"


class SummaryVersion(models.Model):
    """How many times the summary of a municipality's processes (`ProcessStageTime`,
    `MunicipalityStageReached`, `CurrentProcess`) has changed: counted up in the same
    transaction as each change (``workflows.stage_summary``), so that the county overview knows
    whether its cached figures are current by reading a county's few rows
    (``overview.selectors.figures_version``) instead of scanning every process.

    Not the record: a counter, which only ever grows (a row locked while it is counted up, so
    no change is lost to another transaction's).
    """

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("version of a municipality's process summary")
        verbose_name_plural = _("versions of municipalities' process summaries")

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.version}"
