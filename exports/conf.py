"""Settings of the exports, with their defaults (override them in Django settings)."""

from django.conf import settings

DEFAULTS = {
    # Write the progress after at least this many rows.
    "EXPORTS_PROGRESS_ROWS": 10_000,
    # A queued job whose message was published this long ago (or never) is published again by
    # the sweep or when its page is shown.
    "EXPORTS_REQUEUE_SECONDS": 60,
    # A running job without a heartbeat for this long is taken over (its worker died).
    "EXPORTS_STALLED_SECONDS": 600,
    # The audit trail's CSV made in this many processes at once (on PostgreSQL, from one
    # snapshot: `exports.parts`), each over as many events, when each has at least
    # EXPORTS_CSV_PART_ROWS; 1: in the job's process only.
    "EXPORTS_CSV_PROCESSES": 2,
    "EXPORTS_CSV_PART_ROWS": 50_000,
    # Finished exports' files are deleted after this many days (the job stays on the record).
    "EXPORTS_KEEP_DAYS": 7,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
