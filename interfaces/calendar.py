"""A user's calendar feed (ICS, RFC 5545, written by the icalendar library): dialogue meetings,
decision meetings, appeal deadlines, dates of legal force and the day each open process's stage
falls due, in the counties the user may read. All-day events: these are dates, not times."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from municipalities import scoping
from workflows.models import SETTLING_OUTCOMES

from . import selectors

PRODID = "-//Region Kronoberg//PolicyFlow//SV"


def _event(uid: str, day: datetime.date, summary: str, description: str, stamp) -> Event:
    event = Event()
    event.add("uid", f"{uid}@policyflow")
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + datetime.timedelta(days=1))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    event.add("transp", "TRANSPARENT")  # a date to remember, not time taken
    return event


def build_feed(user, *, site_url: str = "") -> bytes:
    """The ICS file of ``user``'s counties: five queries whatever the size of the record
    (roles, meetings, decisions, processes with their due day, the counties with personal
    data)."""
    stamp = timezone.now()
    since = selectors.feed_since()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("PolicyFlow: meetings and deadlines"))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)

    def link(process_id: int) -> str:
        return f"{site_url}/processes/{process_id}/" if site_url else ""

    personal = scoping.personal_data_county_ids(user)
    for meeting in selectors.feed_meetings(user, since=since):
        municipality = meeting.process.municipality
        may_see = personal is None or municipality.county_id in personal
        lines = [meeting.participants if may_see else "", link(meeting.process_id)]
        calendar.add_component(
            _event(
                f"meeting-{meeting.pk}",
                meeting.held_on,
                _("Dialogue meeting: %(municipality)s") % {"municipality": municipality.name},
                "\n".join(line for line in lines if line),
                stamp,
            )
        )
    for decision in selectors.feed_decisions(user, since=since):
        name = decision.process.municipality.name
        what = {
            "municipality": name,
            "body": decision.body_label,
            "case": decision.case_number,
            "paragraph": decision.paragraph_label,
        }
        description = "\n".join(
            x for x in [_("Case number: %(case)s") % what, link(decision.process_id)] if x
        )
        calendar.add_component(
            _event(
                f"decision-{decision.pk}",
                decision.meeting_date,
                _("%(body)s decides on the ASF policy: %(municipality)s %(paragraph)s") % what,
                description,
                stamp,
            )
        )
        is_settled = decision.outcome in SETTLING_OUTCOMES
        if decision.appeal_deadline and is_settled and not decision.legal_force_date:
            calendar.add_component(
                _event(
                    f"appeal-deadline-{decision.pk}",
                    decision.appeal_deadline,
                    _("Last day to appeal: %(municipality)s %(paragraph)s") % what,
                    description,
                    stamp,
                )
            )
        if decision.legal_force_date:
            calendar.add_component(
                _event(
                    f"legal-force-{decision.pk}",
                    decision.legal_force_date,
                    _("Legally binding: %(municipality)s %(paragraph)s") % what,
                    description,
                    stamp,
                )
            )
    for process in selectors.feed_stage_due(user):
        if process.due is None:
            continue
        what = {"municipality": process.municipality.name, "stage": process.get_stage_display()}
        calendar.add_component(
            _event(
                f"stage-due-{process.pk}-{process.stage}-{process.stage_entered_at:%Y%m%d%H%M%S}",
                timezone.localdate(process.due),
                _("Stage due: %(municipality)s – %(stage)s") % what,
                link(process.pk),
                stamp,
            )
        )
    return calendar.to_ical()
