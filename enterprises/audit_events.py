"""How the ASF register's records read in the audit timeline (registered from the app's ready()).

An enterprise belongs to a county, not to one municipality (it may work in several): its events
carry the county's code, so they appear in that county's timeline.
"""

import functools

from django.utils.translation import gettext as _

from audit import registry
from audit.registry import Change, Description
from municipalities.models import County

from .models import Enterprise, ImportBatch, Status


@functools.lru_cache(maxsize=64)
def _county_code(county_id: int) -> str:
    # A county's code never changes (SCB's): read once per process.
    return County.objects.filter(pk=county_id).values_list("code", flat=True).first() or ""


def describe_enterprise(change: Change) -> Description:
    record = change.record
    what = {"name": record.name}
    if change.is_created:
        summary = _("ASF added to the register: %(name)s") % what
    elif change.became("status", Status.CLOSED):
        summary = _("ASF closed: %(name)s") % what
    elif change.became("status"):
        summary = _("ASF %(name)s is now: %(status)s") % {
            **what,
            "status": record.get_status_display(),
        }
    elif set(change.changes) == {"municipalities"}:
        summary = _("Municipalities where %(name)s works recorded") % what
    else:
        summary = _("ASF changed: %(name)s") % what
    return Description(summary=summary, county_code=_county_code(record.county_id))


def describe_import(change: Change) -> Description:
    record = change.record
    summary = _(
        "Register imported from %(file)s: %(rows)s rows, %(created)s new, %(updated)s changed"
    ) % {
        "file": record.file_name,
        "rows": record.rows,
        "created": record.created,
        "updated": record.updated,
    }
    return Description(summary=summary, county_code=_county_code(record.county_id))


def enterprise_names(ids) -> dict:
    return dict(Enterprise.objects.filter(pk__in=ids).values_list("pk", "name"))


def register() -> None:
    registry.register(
        Enterprise,
        describe=describe_enterprise,
        names=enterprise_names,
        personal_fields=["contact_name", "contact_email", "contact_phone"],
        mentions_people=False,
    )
    registry.register(ImportBatch, describe=describe_import, mentions_people=False)
