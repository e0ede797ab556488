"""Demo data for `seed_kronoberg --demo`: Kronoberg's collaboration organisation, with the demo
ASF of the register as members, three meetings and its milestones. Made up. Idempotent: nothing
is added once the county has an organisation."""

import datetime

from django.contrib.auth import get_user_model

from enterprises.models import Enterprise, Status
from municipalities.models import County

from . import services
from .models import MilestoneKind, Organisation

KRONOBERG = "07"


def seed_demo_network(*, username: str = "projektledare") -> bool:
    """Form the organisation as the demo project leader; True when it was added."""
    user = get_user_model().objects.filter(username=username).first()
    county = County.objects.get(code=KRONOBERG)
    if user is None or Organisation.objects.filter(county=county).exists():
        return False
    organisation = services.form_organisation(
        user=user, county=county, name="Samverkan för ASF i Kronoberg"
    )
    enterprises = list(
        Enterprise.objects.filter(county=county).exclude(status=Status.CLOSED).order_by("pk")[:4]
    )
    for index, enterprise in enumerate(enterprises):
        services.add_member(
            user=user,
            organisation=organisation,
            enterprise=enterprise,
            # Two founders; the others join at the meeting that adopted the statutes.
            joined_on=datetime.date(2026, 3, 1) if index < 2 else datetime.date(2026, 6, 10),
        )
    founders = enterprises[:2]
    meetings = [
        (
            datetime.date(2026, 3, 18),
            "1. Behovet av samverkan\n2. Arbetsgrupp för stadgar",
            "",
            founders,
        ),
        (
            datetime.date(2026, 6, 10),
            "1. Förslag till stadgar\n2. Val av styrelse\n3. Avtal med Coompanion",
            "Stadgarna antogs. Styrelse valdes för ett år. Avtalet med Coompanion godkändes.",
            enterprises[:3],
        ),
        (
            datetime.date(2026, 11, 4),
            "1. Gemensam offert till kommunerna\n2. Kompetensdag i vår",
            "Arbetsgruppen tar fram en gemensam presentation till kommunerna.",
            enterprises,
        ),
    ]
    for held_on, agenda, decisions, present in meetings:
        services.record_meeting(
            user=user,
            organisation=organisation,
            held_on=held_on,
            agenda=agenda,
            decisions=decisions,
            attendees=[e for e in present if e in enterprises],
        )
    for kind, reached_on in [
        (MilestoneKind.STATUTES_ADOPTED, datetime.date(2026, 6, 10)),
        (MilestoneKind.BOARD_CHOSEN, datetime.date(2026, 6, 10)),
        (MilestoneKind.COOMPANION_AGREEMENT, datetime.date(2026, 6, 24)),
    ]:
        services.record_milestone(
            user=user, organisation=organisation, kind=kind, reached_on=reached_on
        )
    return True
