"""Every write about the collaboration organisation: forming it, members joining and leaving, its
meetings (with their minutes file) and milestones. One transaction each, recorded in the history
with its actor and reason."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from municipalities.models import County
from workflows import minutes
from workflows.audit import stamp

from . import selectors
from .models import Member, Milestone, MilestoneKind, NetworkMeeting, Organisation


def form_organisation(*, user, county: County, name: str) -> Organisation:
    """Register the county's collaboration organisation (one per county project)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the organisation's name.")})
    taken = ValidationError(
        _("%(county)s already has a collaboration organisation.") % {"county": county.name}
    )
    if Organisation.objects.filter(county=county).exists():
        raise taken
    try:
        with transaction.atomic():
            organisation = Organisation(county=county, name=name)
            stamp(organisation, user=user, reason=_("Collaboration organisation registered"))
            organisation.save()
    except IntegrityError as error:  # formed at the same moment by another leader
        raise taken from error
    return organisation


def add_member(*, user, organisation: Organisation, enterprise, joined_on: datetime.date) -> Member:
    """An ASF of the county's register joins the organisation."""
    if (
        not selectors.enterprises_of(county_id=organisation.county_id)
        .filter(pk=enterprise.pk)
        .exists()
    ):
        raise ValidationError({"enterprise": _("Choose an ASF of the county's register.")})
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.members.filter(enterprise=enterprise, left_on__isnull=True).exists():
            raise ValidationError(
                {"enterprise": _("%(name)s is already a member.") % {"name": enterprise}}
            )
        member = Member(organisation=organisation, enterprise=enterprise, joined_on=joined_on)
        stamp(member, user=user, reason=_("Member joined"))
        member.save()
    return member


def end_membership(*, user, member: Member, left_on: datetime.date) -> Member:
    """The member leaves the organisation on ``left_on`` (the membership stays on record)."""
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("enterprise").get(pk=member.pk)
        if member.left_on is not None:
            raise ValidationError(_("The member has already left."))
        if left_on < member.joined_on:
            raise ValidationError(
                {
                    "left_on": _("The member cannot leave before it joined (%(date)s).")
                    % {"date": member.joined_on}
                }
            )
        member.left_on = left_on
        stamp(member, user=user, reason=_("Member left"))
        member.save()
    return member


def _check_attendees(organisation: Organisation, held_on: datetime.date, attendees) -> list:
    chosen = list(attendees)
    members = {m.enterprise_id for m in organisation.members.all() if m.is_member_on(held_on)}
    outside = [str(e) for e in chosen if e.pk not in members]
    if outside:
        raise ValidationError(
            {
                "attendees": _("Not members on %(date)s: %(names)s.")
                % {"date": held_on, "names": ", ".join(sorted(outside))}
            }
        )
    return chosen


def _minutes_fields(upload) -> dict:
    if not upload:
        return {}
    content_type, sha256 = minutes.check_upload(upload)
    return {
        "minutes_file": upload,
        "minutes_content_type": content_type,
        "minutes_sha256": sha256,
        "minutes_file_name": minutes.original_name(upload),
    }


def record_meeting(
    *,
    user,
    organisation: Organisation,
    held_on: datetime.date,
    agenda: str,
    decisions: str = "",
    attendees: Iterable = (),
    minutes_file=None,
) -> NetworkMeeting:
    """Record a meeting of the organisation: its agenda, the members present, its decisions
    and (optionally) its minutes file (PDF, ODT or DOCX, read from its content)."""
    if not agenda.strip():
        raise ValidationError({"agenda": _("Give the meeting's agenda.")})
    chosen = _check_attendees(organisation, held_on, attendees)
    file_fields = _minutes_fields(minutes_file)
    reason = _("Meeting of the collaboration organisation recorded")
    with transaction.atomic():
        meeting = NetworkMeeting(
            organisation=organisation,
            held_on=held_on,
            agenda=agenda.strip(),
            decisions=decisions.strip(),
            created_by=user,
        )
        # The content type first: the random file name takes its extension from it.
        for name, value in file_fields.items():
            if name != "minutes_file":
                setattr(meeting, name, value)
        if file_fields:
            meeting.minutes_file = file_fields["minutes_file"]
        stamp(meeting, user=user, reason=reason)
        meeting.save()
        if chosen:
            stamp(meeting, user=user, reason=reason)
            meeting.attendees.set(chosen)
    return meeting


def update_meeting(
    *,
    user,
    meeting: NetworkMeeting,
    held_on: datetime.date,
    agenda: str,
    decisions: str = "",
    attendees: Iterable = (),
    minutes_file=None,
) -> NetworkMeeting:
    """Correct a meeting; a new minutes file replaces the old one (the history keeps its
    name and checksum)."""
    if not agenda.strip():
        raise ValidationError({"agenda": _("Give the meeting's agenda.")})
    chosen = _check_attendees(meeting.organisation, held_on, attendees)
    file_fields = _minutes_fields(minutes_file)
    reason = _("Meeting of the collaboration organisation corrected")
    with transaction.atomic():
        meeting = NetworkMeeting.objects.select_for_update().get(pk=meeting.pk)
        meeting.held_on = held_on
        meeting.agenda = agenda.strip()
        meeting.decisions = decisions.strip()
        for name, value in file_fields.items():
            if name != "minutes_file":
                setattr(meeting, name, value)
        if file_fields:
            meeting.minutes_file = file_fields["minutes_file"]
        stamp(meeting, user=user, reason=reason)
        meeting.save()
        if {e.pk for e in chosen} != set(meeting.attendees.values_list("pk", flat=True)):
            stamp(meeting, user=user, reason=reason)
            meeting.attendees.set(chosen)
    return meeting


def _check_milestone(kind: str, description: str) -> None:
    if kind not in MilestoneKind.values:
        raise ValidationError({"kind": _("Choose a milestone.")})
    if kind == MilestoneKind.OTHER and not description.strip():
        raise ValidationError({"description": _("Describe the milestone reached.")})


def record_milestone(
    *, user, organisation: Organisation, kind: str, reached_on: datetime.date, description: str = ""
) -> Milestone:
    _check_milestone(kind, description)
    with transaction.atomic():
        milestone = Milestone(
            organisation=organisation,
            kind=kind,
            reached_on=reached_on,
            description=description.strip(),
            created_by=user,
        )
        stamp(milestone, user=user, reason=_("Milestone recorded"))
        milestone.save()
    return milestone


def update_milestone(
    *, user, milestone: Milestone, kind: str, reached_on: datetime.date, description: str = ""
) -> Milestone:
    _check_milestone(kind, description)
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        milestone.kind = kind
        milestone.reached_on = reached_on
        milestone.description = description.strip()
        stamp(milestone, user=user, reason=_("Milestone corrected"))
        milestone.save()
    return milestone
