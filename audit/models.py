"""The audit trail: one append-only table of events, hash-chained per municipality, the heads of
those chains, the country-wide checkpoints that anchor them, and the record of their checks.

Every row of `AuditEvent` is written once, in the transaction of the change it describes, and
never updated or deleted (PostgreSQL triggers refuse it; see `audit.apps`). The only exception
is pseudonymisation, which may replace `personal` and set `pseudonymised_at`: both lie outside
the hash (the hash covers `personal_digest`, an HMAC of the personal part). See docs/audit.md.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64

# The chain of the events written before chains per municipality existed (hashes kept as written).
LEGACY_CHAIN = "legacy"
# The chain of events that belong to no municipality (sign-in lockouts, exports of personal data).
PROJECT_CHAIN = "project"


def chain_of(municipality_id: int | None) -> str:
    """The chain an event of ``municipality_id`` (None: of no municipality) is appended to."""
    return f"municipality:{municipality_id}" if municipality_id else PROJECT_CHAIN


NO_TRUNCATE_TRIGGER = "no_truncate"


def no_truncate() -> pgtrigger.Trigger:
    """A statement-level trigger refusing TRUNCATE (row-level triggers never see it).

    pgtrigger's `Protect` renders statement-level triggers only for operations with transition
    tables (TRUNCATE has none), hence a plain trigger raising as `Protect` does.
    """
    return pgtrigger.Trigger(
        name=NO_TRUNCATE_TRIGGER,
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func="RAISE EXCEPTION 'pgtrigger: Cannot truncate rows from % table', TG_TABLE_NAME;",
    )


class Kind(models.TextChoices):
    """What happened, in the words of the timeline."""

    PROCESS_STARTED = "process_started", _("Process started")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    PROCESS_CHANGED = "process_changed", _("Process changed")
    APPROVERS_CHOSEN = "approvers_chosen", _("Contact persons who approve chosen")
    PROCESS_FINISHED = "process_finished", _("Process finished")
    STEP_OPENED = "step_opened", _("Step opened")
    STEP_ASSIGNED = "step_assigned", _("Step assigned")
    STEP_STARTED = "step_started", _("Step started")
    STEP_COMPLETED = "step_completed", _("Step completed")
    STEP_CANCELLED = "step_cancelled", _("Step cancelled")
    STEP_CHANGED = "step_changed", _("Step changed")
    CONTACT_RECORDED = "contact_recorded", _("First contact recorded")
    MEETING_RECORDED = "meeting_recorded", _("Meeting recorded")
    DRAFT_WRITTEN = "draft_written", _("Draft written")
    LINK_SENT = "link_sent", _("Task link sent")
    # A GET of the emailed URL (possibly a mail scanner) vs the page shown in the contact's
    # browser session: two different facts.
    LINK_FETCHED = "link_fetched", _("Task link fetched")
    LINK_OPENED = "link_opened", _("Task link opened")
    LINK_USED = "link_used", _("Task link used")
    LINK_REVOKED = "link_revoked", _("Task link revoked")
    ANSWER_RECEIVED = "answer_received", _("Answer received")
    DECISION_RECORDED = "decision_recorded", _("Decision recorded")
    NOTIFICATION_QUEUED = "notification_queued", _("Notification queued")
    NOTIFICATION_SENT = "notification_sent", _("Notification sent")
    NOTIFICATION_RETRYING = "notification_retrying", _("Notification attempt failed")
    NOTIFICATION_FAILED = "notification_failed", _("Notification failed")
    NOTIFICATION_REQUEUED = "notification_requeued", _("Notification queued again")
    CONTACT_PERSON_ADDED = "contact_person_added", _("Contact person added")
    CONTACT_PERSON_CHANGED = "contact_person_changed", _("Contact person changed")
    RECORD_VOIDED = "record_voided", _("Record voided")
    RECORD_CREATED = "record_created", _("Record created")
    RECORD_CHANGED = "record_changed", _("Record changed")
    RECORD_DELETED = "record_deleted", _("Record deleted")
    # A row saved without a change anyone would see (only the software's own bookkeeping
    # fields, or none): kept in the chain, left out of the timeline pages unless asked for.
    RECORD_TOUCHED = "record_touched", _("Bookkeeping (no visible change)")
    PERSON_PSEUDONYMISED = "person_pseudonymised", _("Contact person pseudonymised")
    PERSONAL_DATA_EXPORTED = "personal_data_exported", _("Personal data exported")
    SIGNIN_LOCKED = "signin_locked", _("Sign-in locked")


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    CONTACT = "contact", _("Contact person (via task link)")
    SYSTEM = "system", _("PolicyFlow")


class AuditEvent(models.Model):
    """One thing that happened: when, who, where (process, municipality, county, stage), what, why.

    Each event belongs to one `chain` (its municipality's, see `chain_of`). `seq` is its place in
    that chain, assigned under the chain head's row lock without gaps, so a removed row shows as a
    gap; `hash` chains each row to the one before in its chain (HMAC-SHA256, see `audit.chain`).
    Texts may hold placeholders such as ``⟦p:17⟧`` for a contact person's name, kept in
    `personal`.
    """

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(_("chain"), max_length=32)
    seq = models.BigIntegerField(_("sequence number"))
    occurred_at = models.DateTimeField(_("time"))
    kind = models.CharField(_("event"), max_length=40, choices=Kind.choices)
    actor_kind = models.CharField(
        _("actor type"), max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # History outlives accounts: deactivate users instead of deleting them.
        on_delete=models.PROTECT,
        # audit_actor_idx (actor, id) serves every lookup by actor: one index less to write.
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_label = models.CharField(_("actor"), max_length=300, blank=True)
    model_label = models.CharField(_("record type"), max_length=100)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    history_id = models.BigIntegerField(_("history row"), null=True, blank=True)
    process_id = models.BigIntegerField(_("process"), null=True, blank=True)
    municipality_id = models.BigIntegerField(_("municipality"), null=True, blank=True)
    municipality_name = models.CharField(_("municipality name"), max_length=100, blank=True)
    county_code = models.CharField(_("county code"), max_length=2, blank=True)
    stage = models.CharField(_("stage"), max_length=32, blank=True)
    summary = models.TextField(_("what"))
    reason = models.TextField(_("why"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    personal = models.JSONField(_("personal data"), default=dict, blank=True)
    personal_digest = models.CharField(max_length=64)
    pseudonymised_at = models.DateTimeField(_("pseudonymised"), null=True, blank=True)
    # HMAC of the history row (`audit.binding`): the row cannot change unseen.
    record_digest = models.CharField(max_length=64, blank=True, default="")
    # Which fields the hash covers (`audit.chain`): 1 before record digests existed, 2 before
    # chains per municipality (`chain` not hashed), 3 since.
    chain_version = models.PositiveSmallIntegerField(default=3)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            # Keyset pagination per filter: newest first within the filtered set.
            models.Index(fields=["municipality_id", "id"], name="audit_municipality_idx"),
            models.Index(fields=["county_code", "id"], name="audit_county_idx"),
            models.Index(fields=["process_id", "id"], name="audit_process_idx"),
            models.Index(fields=["kind", "id"], name="audit_kind_idx"),
            models.Index(fields=["actor_user", "id"], name="audit_actor_idx"),
            # Date filters are turned into id bounds through this one.
            models.Index(fields=["occurred_at", "id"], name="audit_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_gte_1"),
            # No fork: one event per place in a chain (and the index that walks a chain).
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
        ]
        triggers = [
            # Rows are never updated or deleted; only the pseudonymisation service lifts this
            # one (pgtrigger.ignore), and even then the next trigger pins every hashed column.
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Protect(
                name="chain_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["personal", "pseudonymised_at"]),
            ),
            # TRUNCATE fires no row trigger: without this one a wiped table (and a chain that
            # silently restarts at seq 1) would pass the two above.
            no_truncate(),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_kind_display()}"


class ChainHead(models.Model):
    """The newest event of one chain: its row is locked (`select_for_update`) by every append to
    the chain until the transaction ends, so appends to one chain follow each other while
    different municipalities' chains grow in parallel. Moved on in the appending transaction: a
    rolled-back append (or savepoint) rolls it back too."""

    key = models.CharField(_("chain"), max_length=32, primary_key=True)
    seq = models.BigIntegerField(_("sequence number"), default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    occurred_at = models.DateTimeField(_("time"), null=True, blank=True)
    # The county of a municipality's chain ("" for the chains of no municipality), kept by every
    # append: a page reads the heads of its reader's counties only (`selectors.data_version`).
    county_code = models.CharField(_("county code"), max_length=2, blank=True, default="")

    class Meta:
        ordering = ["key"]
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self) -> str:
        return f"{self.key} #{self.seq}"


class AuditCheckpoint(models.Model):
    """Every chain's head (seq and hash) at one moment, chained checkpoint to checkpoint with the
    HMAC (`audit.checkpoints`): a chain edited, cut short or rolled back after a checkpoint no
    longer holds the head it recorded. The latest checkpoint's `SEQ:HASH` is the head published
    outside the database."""

    seq = models.BigIntegerField(_("checkpoint number"), unique=True)
    created_at = models.DateTimeField(_("time"))
    # {chain: [seq, hash]} of every chain.
    heads = models.JSONField(_("chain heads"), default=dict)
    events = models.BigIntegerField(_("events"), default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        get_latest_by = "seq"
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            no_truncate(),
        ]

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @property
    def occurred_at(self):
        return self.created_at


class AuditVerification(models.Model):
    """One run of the chain verification: when, whether it held, the checkpoint it reached
    (`head_seq`/`head_hash`; before checkpoints existed: the event)."""

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    is_ok = models.BooleanField(_("chain intact"))
    rows_checked = models.BigIntegerField(_("rows checked"))
    head_id = models.BigIntegerField(_("head event"), null=True, blank=True)
    head_seq = models.BigIntegerField(_("head sequence number"), null=True, blank=True)
    head_hash = models.CharField(_("head hash"), max_length=64, blank=True)
    first_bad_id = models.BigIntegerField(_("first bad event"), null=True, blank=True)
    problem = models.TextField(_("first problem"), blank=True)
    problem_count = models.PositiveIntegerField(_("problems found"), default=0)
    source = models.CharField(_("run by"), max_length=40)
    # The checkpoint verified up to; the next incremental verification starts there.
    checkpoint_seq = models.BigIntegerField(_("checkpoint number"), null=True, blank=True)
    is_full = models.BooleanField(_("everything verified"), default=True)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"
        verbose_name = _("audit verification")
        verbose_name_plural = _("audit verifications")
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            no_truncate(),
        ]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} {'ok' if self.is_ok else 'FAILED'}"
