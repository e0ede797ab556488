"""How export jobs read in the audit timeline: who asked for which export, when it was ready
(or failed), and each download. Progress updates are not history (see `models.ExportJob`)."""

from django.utils.translation import gettext as _

from audit import registry
from audit.registry import Change, Description

from .models import ExportJob, Kind, Status


def describe_job(change: Change) -> Description:
    record = change.record
    what = {"kind": Kind(record.kind).label, "id": record.pk}
    if change.is_created:
        summary = _("Export %(id)s requested: %(kind)s") % what
    elif change.became("status", Status.DONE):
        summary = _("Export %(id)s ready: %(kind)s") % what
    elif change.became("status", Status.FAILED):
        summary = _("Export %(id)s failed: %(kind)s") % what
    elif change.became("downloads"):
        summary = _("Export %(id)s downloaded: %(kind)s") % what
    else:
        summary = _("Export %(id)s changed: %(kind)s") % what
    counties = record.counties or []
    return Description(summary=str(summary), county_code=counties[0] if len(counties) == 1 else "")


def register() -> None:
    registry.register(
        ExportJob,
        describe=describe_job,
        mentions_people=False,
        internal_fields=["done", "total", "heartbeat_at", "enqueued_at"],
    )
