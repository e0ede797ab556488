"""An export job: what was asked, by whom, for which counties, and the file it made."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager


def exports_storage():
    """STORAGES["exports"]: MEDIA_ROOT/exports/ by default, never served by URL."""
    from django.core.files.storage import storages

    return storages["exports"]


class Kind(models.TextChoices):
    AUDIT_CSV = "audit_csv", _("Audit trail (CSV)")
    AUDIT_ARCHIVE = "audit_archive", _("Audit trail archive (ZIP with checksums)")
    COUNTY_REPORT = "county_report", _("Follow-up report (PDF)")
    MUNICIPALITY_REPORT = "municipality_report", _("Follow-up report of a municipality (PDF)")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """One export. ``params`` are the export's own (filters, delimiter, county or municipality
    code); ``counties`` is the scope fixed when it was asked for: the county codes whose data it
    may hold (null: every county), from `municipalities.scoping`, never widened later.

    Progress (``done``/``total``, ``heartbeat_at``) is written with UPDATE, outside the history:
    only the request, the end and each download are on the record."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    counties = models.JSONField(null=True, blank=True)
    language = models.CharField(max_length=8, default="sv")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    # Emptied when the file is deleted after EXPORTS_KEEP_DAYS (`services.delete_expired`).
    file = models.FileField(max_length=255, blank=True, storage=exports_storage)
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    downloads = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="exports_job_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__isnull=True) | models.Q(done__lte=models.F("total")),
                name="exports_job_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (Status.DONE, Status.FAILED)
