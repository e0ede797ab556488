"""How the collaboration organisation's records read in the audit timeline (registered from
NetworkConfig). The minutes files of meetings go into the archive export beside the events."""

from collections.abc import Iterator
from pathlib import PurePath

from django.utils.translation import gettext as _

from audit import registry
from audit.models import Kind
from audit.registry import Change, Description
from municipalities.models import County

from .models import Member, Milestone, NetworkMeeting, Organisation


def _county_code(organisation_id, memo: dict) -> str | None:
    """The organisation's county, for the trail's county filter."""
    key = ("organisation", organisation_id)
    if key not in memo:
        memo[key] = (
            Organisation.objects.filter(pk=organisation_id)
            .values_list("county__code", flat=True)
            .first()
        )
    return memo[key]


def _describe(change: Change, summary: str) -> Description:
    record = change.record
    organisation_id = getattr(record, "organisation_id", None)
    if organisation_id is None:  # the organisation itself
        code = County.objects.filter(pk=record.county_id).values_list("code", flat=True).first()
    else:
        code = _county_code(organisation_id, change.memo)
    return Description(kind=_kind(change), summary=summary, county_code=code)


def _kind(change: Change) -> str:
    return {"+": Kind.RECORD_CREATED, "-": Kind.RECORD_DELETED}.get(
        change.history_type, Kind.RECORD_CHANGED
    )


def describe_organisation(change: Change) -> Description:
    return _describe(
        change, _("Collaboration organisation “%(name)s”") % {"name": change.record.name}
    )


def describe_member(change: Change) -> Description:
    record = change.record
    name = str(record.enterprise) if record.enterprise_id else "–"
    if change.is_created:
        summary = _("%(name)s joined the collaboration organisation on %(date)s")
        return _describe(change, summary % {"name": name, "date": record.joined_on})
    if change.was_set("left_on"):
        summary = _("%(name)s left the collaboration organisation on %(date)s")
        return _describe(change, summary % {"name": name, "date": record.left_on})
    return _describe(change, _("Membership of %(name)s changed") % {"name": name})


def describe_meeting(change: Change) -> Description:
    what = _("Meeting of the collaboration organisation on %(date)s") % {
        "date": change.record.held_on
    }
    return _describe(change, what)


def describe_milestone(change: Change) -> Description:
    record = change.record
    label = record.description or record.get_kind_display()
    return _describe(
        change, _("Milestone “%(what)s” on %(date)s") % {"what": label, "date": record.reached_on}
    )


def register() -> None:
    registry.register(Organisation, describe=describe_organisation, mentions_people=False)
    registry.register(Member, describe=describe_member, mentions_people=False)
    registry.register(NetworkMeeting, describe=describe_meeting, mentions_people=False)
    registry.register(Milestone, describe=describe_milestone, mentions_people=False)
    registry.register_attachments(minutes_files)


def minutes_files(events) -> Iterator[registry.Attachment]:
    """The minutes files of the meetings the exported events are about, for the archive."""
    ids = {
        int(pk)
        for pk in events.filter(model_label=NetworkMeeting._meta.label_lower)
        .values_list("object_id", flat=True)
        .distinct()
        if pk.isdigit()
    }
    meetings = NetworkMeeting.objects.filter(pk__in=ids).exclude(minutes_file="").order_by("pk")
    for meeting in meetings.iterator():
        extension = PurePath(meeting.minutes_file.name).suffix
        yield registry.Attachment(
            name=f"minutes/network-meeting-{meeting.pk}{extension}",
            open=meeting.minutes_file.open,
            meta={
                "network_meeting_id": meeting.pk,
                "recorded_sha256": meeting.minutes_sha256,
                "original_name": meeting.minutes_file_name,
            },
        )
