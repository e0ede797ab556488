"""Writes of export jobs: request one (the row first, the Celery message after commit), run one
(the worker's side), re-enqueue what a lost message left behind, and note each download.

A job's scope (``ExportJob.counties``) is fixed here, at request time, from
`municipalities.scoping` through the audit trail's AUDIT_COUNTY_SCOPE: the worker only ever
narrows by it. The row is written before any message: with Redis down the request is still
there, and the sweep (or the job's page) enqueues it again.
"""

from __future__ import annotations

import datetime
import functools
import logging
import tempfile

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connections, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.memory import cycle_collector_paused

from .conf import setting
from .models import ExportJob, Kind, Status, exports_storage

logger = logging.getLogger(__name__)

AUDIT_KINDS = (Kind.AUDIT_CSV, Kind.AUDIT_ARCHIVE)


def storage():
    """Where finished exports are kept (STORAGES["exports"]: MEDIA_ROOT/exports/ by default)."""
    return exports_storage()


# --- Scope ------------------------------------------------------------------------------------


def audit_counties(user) -> list[str] | None:
    """The county codes of the audit trail ``user`` reads (None: every county)."""
    from audit.views import reader_counties

    return reader_counties(user)


def _covers(reader: list[str] | None, job_counties: list[str] | None) -> bool:
    """Whether a reader of ``reader`` counties reads everything a job of ``job_counties`` holds."""
    if reader is None:
        return True
    return job_counties is not None and set(job_counties) <= set(reader)


def may_read(user, job: ExportJob) -> bool:
    """The user who asked, or a reader of the same scope (every county the job covers, and,
    for a report naming contact persons, their personal data too)."""
    from municipalities import scoping

    if not user.is_authenticated:
        return False
    if job.requested_by_id == user.pk:
        return True
    if job.kind in AUDIT_KINDS:
        return user.has_perm(_audit_permission()) and _covers(audit_counties(user), job.counties)
    if not _covers(scoping.visible_county_codes(user), job.counties):
        return False
    if job.params.get("personal"):
        return _covers(audit_counties(user), job.counties)
    return True


def _audit_permission() -> str:
    from audit.conf import setting as audit_setting

    return audit_setting("AUDIT_READ_PERMISSION")


# --- Requesting -------------------------------------------------------------------------------


def _audit_params(user, params: dict) -> tuple[dict, list[str] | None]:
    from audit.forms import TimelineFilterForm

    if not user.has_perm(_audit_permission()):
        raise PermissionDenied
    counties = audit_counties(user)
    if counties is not None and not counties:
        raise PermissionDenied
    query = params.get("query", "")
    data = QueryDict(query)
    form = TimelineFilterForm(data or None, scope="county", counties=counties)
    if form.is_bound and not form.is_valid():
        raise ValidationError(_("Invalid filters."))
    delimiter = ";" if params.get("delimiter") in (";", "semicolon") else ","
    return {"query": query, "delimiter": delimiter}, counties


def _report_params(user, kind: str, params: dict) -> tuple[dict, list[str] | None]:
    from municipalities import scoping
    from workflows.overview import selectors

    if kind == Kind.MUNICIPALITY_REPORT:
        municipality = selectors.municipality_by_code(params.get("municipality", ""))
        if not scoping.can_read(user, municipality.county_id):
            raise PermissionDenied
        personal = scoping.can_see_personal_data(user, municipality.county_id)
        county_code = municipality.county.code
        return {"municipality": municipality.code, "personal": personal}, [county_code]
    county = selectors.county_by_code(params.get("county"), user=user)  # 404 outside scope
    within = selectors.within_of(user) if county is None else None
    personal = selectors.may_name_contacts(user, county, within)
    if county is not None:
        return {"county": county.code, "personal": personal}, [county.code]
    counties = None
    if within is not None:
        counties = sorted(
            selectors.County.objects.filter(pk__in=within).values_list("code", flat=True)
        )
    return {
        "county": selectors.ALL_COUNTIES,
        "within": list(within) if within is not None else None,
        "personal": personal,
    }, counties


def request_export(*, user, kind: str, params: dict) -> ExportJob:
    """Record ``user``'s request for an export and ask a worker to make it (after commit).

    ``params``: for the audit trail, ``query`` (the timeline's filters, URL-encoded) and
    ``delimiter``; for a report, ``county`` (a code or "all") or ``municipality`` (a code).
    Raises PermissionDenied, Http404 (a county or municipality outside the user's scope) or
    ValidationError (bad filters): nothing is written then.
    """
    if kind not in Kind.values:
        raise ValidationError(_("Unknown export."))
    if kind in AUDIT_KINDS:
        clean, counties = _audit_params(user, params)
    else:
        clean, counties = _report_params(user, kind, params)
    with transaction.atomic():
        job = ExportJob(
            requested_by=user,
            kind=kind,
            params=clean,
            counties=counties,
            language=translation.get_language() or "sv",
        )
        job._history_user = user
        job.save()
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: int) -> bool:
    """Publish the job's task message; False (logged, never raised) if the broker is down."""
    from .tasks import run_export_job

    try:
        run_export_job.apply_async(args=[job_id])
    except Exception as error:  # kombu OperationalError, redis errors: the row is safe
        logger.warning(
            "Could not enqueue export %s (%s: %s); the sweep will retry.",
            job_id,
            type(error).__name__,
            error,
        )
        return False
    ExportJob.objects.filter(pk=job_id).update(enqueued_at=timezone.now())
    return True


def _stale_q(now: datetime.datetime) -> Q:
    grace = datetime.timedelta(seconds=float(setting("EXPORTS_REQUEUE_SECONDS")))
    stalled = datetime.timedelta(seconds=float(setting("EXPORTS_STALLED_SECONDS")))
    return Q(status=Status.QUEUED) & (
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace)
    ) | Q(status=Status.RUNNING, heartbeat_at__lt=now - stalled)


def needs_enqueue(job: ExportJob) -> bool:
    return ExportJob.objects.filter(_stale_q(timezone.now()), pk=job.pk).exists()


def requeue_stale() -> int:
    """Enqueue again the jobs whose message was lost (never published: Redis was down; or a
    worker stopped sending heartbeats). Returns how many were published."""
    ids = list(ExportJob.objects.filter(_stale_q(timezone.now())).values_list("pk", flat=True))
    return sum(enqueue(pk) for pk in ids)


# --- Running (the worker) ---------------------------------------------------------------------


class _Progress:
    """Progress written on a connection of its own, in autocommit: the export itself reads in
    one long transaction, whose writes nobody would see before it ends."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.connection = connections.create_connection("default")
        self.table = ExportJob._meta.db_table
        self.is_set_up = False

    def set(self, *, done: int | None = None, total: int | None = None) -> None:
        with self.connection.cursor() as cursor:
            if not self.is_set_up and self.connection.vendor == "postgresql":
                # Updates that do not wait for their commit to reach the disk (~4 ms each, ~90
                # of a million-row job, all on its own part's time): a crash of PostgreSQL may
                # lose the last ones, harmless for a progress figure and a heartbeat.
                cursor.execute("SET synchronous_commit TO OFF")
            self.is_set_up = True
            cursor.execute(
                f"UPDATE {self.table} SET done = COALESCE(%s, done), "  # noqa: S608
                "total = COALESCE(%s, total), heartbeat_at = %s WHERE id = %s",
                [done, total, timezone.now(), self.job_id],
            )

    def close(self) -> None:
        self.connection.close()


def _claim(job_id: int) -> ExportJob | None:
    """Mark the job running, unless it is finished or another worker runs it (heartbeats)."""
    now = timezone.now()
    stalled = datetime.timedelta(seconds=float(setting("EXPORTS_STALLED_SECONDS")))
    claimed = ExportJob.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=now - stalled),
        pk=job_id,
    ).update(status=Status.RUNNING, heartbeat_at=now, done=0)
    return ExportJob.objects.get(pk=job_id) if claimed else None


def _audit_queryset(job: ExportJob):
    from audit import selectors
    from audit.forms import TimelineFilterForm
    from audit.models import AuditEvent

    data = QueryDict(job.params.get("query", ""))
    form = TimelineFilterForm(data or None, scope="county", counties=job.counties)
    filters = form.filters() if form.is_bound and form.is_valid() else {}
    queryset = selectors.filtered_events(**filters, counties=job.counties)
    return queryset if queryset is not None else AuditEvent.objects.none(), filters


def _write_csv(job: ExportJob, target, progress: _Progress) -> None:
    # Its rows form no cycles: the collector would walk each block for nothing (~10 µs a row).
    with cycle_collector_paused():
        _write_csv_rows(job, target, progress)


def _write_csv_rows(job: ExportJob, target, progress: _Progress) -> None:
    from audit import exports

    from . import parts

    queryset, _filters = _audit_queryset(job)
    total = queryset.count()
    progress.set(total=total)
    every = int(setting("EXPORTS_PROGRESS_ROWS"))
    reported = 0

    def report(done: int) -> None:
        nonlocal reported
        if done - reported >= every:
            progress.set(done=min(done, total))
            reported = done

    stream = functools.partial(exports.stream_csv, delimiter=job.params["delimiter"])
    processes = min(
        int(setting("EXPORTS_CSV_PROCESSES")), total // int(setting("EXPORTS_CSV_PART_ROWS"))
    )
    if processes > 1 and parts.possible(queryset.db):
        logger.info("Export %s: %s events in %s parts", job.pk, total, processes)
        parts.write(
            stream, queryset, processes=processes, total=total, target=target, progress=report
        )
    else:
        done = 0
        for i, block in enumerate(stream(queryset)):
            target.write(block.encode())
            if i:  # the first block is the header
                done = min(done + exports.CHUNK, total)
                report(done)
    progress.set(done=total)


def _write_archive(job: ExportJob, target, progress: _Progress) -> None:
    from audit import exports

    queryset, filters = _audit_queryset(job)
    progress.set(total=queryset.count())
    manifest = exports.write_archive(
        target, queryset, filters={k: str(v) for k, v in filters.items() if v}
    )
    progress.set(done=manifest["event_count"])


def _report_context(job: ExportJob) -> dict:
    from workflows.overview import report, selectors

    personal = bool(job.params.get("personal"))
    if job.kind == Kind.MUNICIPALITY_REPORT:
        municipality = selectors.municipality_by_code(job.params["municipality"])
        return report.municipality_context(municipality=municipality, personal=personal)
    code = job.params.get("county")
    county = None if code == selectors.ALL_COUNTIES else selectors.County.objects.get(code=code)
    within = job.params.get("within")
    return report.county_context(
        county=county, within=tuple(within) if within is not None else None, personal=personal
    )


def _write_report(job: ExportJob, target, progress: _Progress) -> str:
    from workflows.overview import report

    progress.set(total=1)
    context = _report_context(job)
    target.write(report.render_pdf(context))
    progress.set(done=1)
    return report.filename(context)


def _file_name(job: ExportJob) -> tuple[str, str]:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if job.kind == Kind.AUDIT_CSV:
        return f"policyflow-audit-{stamp}.csv", "text/csv; charset=utf-8"
    if job.kind == Kind.AUDIT_ARCHIVE:
        return f"policyflow-audit-archive-{stamp}.zip", "application/zip"
    return f"policyflow-report-{stamp}.pdf", "application/pdf"


def run_job(job_id: int) -> str:
    """Make the job's file (the worker's side). Returns the job's status afterwards; a job
    finished or running elsewhere is left alone."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    progress = _Progress(job_id)
    name, content_type = _file_name(job)
    try:
        with translation.override(job.language), tempfile.TemporaryFile() as target:
            if job.kind == Kind.AUDIT_CSV:
                _write_csv(job, target, progress)
            elif job.kind == Kind.AUDIT_ARCHIVE:
                _write_archive(job, target, progress)
            else:
                name = _write_report(job, target, progress)
            target.seek(0)
            stored = storage().save(f"{job.pk}/{name}", File(target, name=name))
    except Exception as error:
        logger.exception("Export %s failed", job_id)
        job.refresh_from_db()
        job.status = Status.FAILED
        job.error = f"{type(error).__name__}: {error}"[:2000]
        job.finished_at = timezone.now()
        job.save()
        return job.status
    finally:
        progress.close()
    job.refresh_from_db()
    job.file.name = stored
    job.file_name = name
    job.content_type = content_type
    job.status = Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return job.status


# --- Downloads and retention ------------------------------------------------------------------


def note_download(*, job: ExportJob, user) -> None:
    """Put the download on the record (a history row of the job, hence an audit event)."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        job.downloads += 1
        job._history_user = user
        job.save(update_fields=["downloads"])


def delete_expired() -> int:
    """Delete the files of exports finished more than EXPORTS_KEEP_DAYS ago (the job rows stay
    on the record, without their file). Returns how many files went."""
    cutoff = timezone.now() - datetime.timedelta(days=float(setting("EXPORTS_KEEP_DAYS")))
    count = 0
    for job in ExportJob.objects.filter(status=Status.DONE, finished_at__lt=cutoff).exclude(
        file=""
    ):
        storage().delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        count += 1
    return count
