"""Demo data for `seed_kronoberg --demo`: knowledge-spreading activities of Kronoberg's project.

Made up, numbers only (no participant is named). Idempotent: nothing is added once the county
has an activity."""

import datetime

from django.contrib.auth import get_user_model

from enterprises.models import Enterprise
from municipalities.models import County, Municipality

from .models import Activity, ActivityKind
from .services import Reached, record_activity

KRONOBERG = "07"

DEMO_ACTIVITIES = [
    # kind, title, date, organiser, municipality codes, audience {actor type: Reached}
    (
        ActivityKind.SEMINAR,
        "Frukostseminarium: vad är ett arbetsintegrerande socialt företag?",
        datetime.date(2025, 10, 8),
        "Region Kronoberg och Coompanion Kronoberg",
        ["0780", "0764"],
        {"municipality": Reached(14, 9, 5), "region": Reached(3, 2, 1), "asf": Reached(6)},
    ),
    (
        ActivityKind.STUDY_VISIT,
        "Studiebesök på Återbruket i Växjö",
        datetime.date(2026, 2, 12),
        "Region Kronoberg",
        ["0780"],
        {"municipality": Reached(8, 5, 3), "private_company": Reached(4, 1, 3)},
    ),
    (
        ActivityKind.CONFERENCE,
        "Sociala hänsyn i upphandling – länskonferens",
        datetime.date(2026, 4, 23),
        "Region Kronoberg",
        ["0760", "0761", "0763", "0764", "0765", "0767", "0780", "0781"],
        {
            "municipality": Reached(46, 28, 17, 1),
            "other_public": Reached(12),
            "private_company": Reached(9, 4, 5),
            "civil_society": Reached(7, 5, 2),
            "asf": Reached(11, 6, 5),
        },
    ),
    (
        ActivityKind.MEETING,
        "Dialogmöte med näringslivsenheten i Ljungby",
        datetime.date(2026, 9, 3),
        "Region Kronoberg",
        ["0781"],
        {"municipality": Reached(5, 3, 2)},
    ),
    (
        ActivityKind.NEWSLETTER,
        "Nyhetsbrev hösten 2026: ASF i Kronoberg",
        datetime.date(2026, 10, 15),
        "Region Kronoberg",
        [],
        {"municipality": Reached(120), "other_public": Reached(40), "private_company": Reached(65)},
    ),
    (
        ActivityKind.SEMINAR,
        "Reserverad upphandling i praktiken",
        datetime.date(2026, 11, 19),
        "Coompanion Kronoberg",
        ["0765", "0767"],
        {"municipality": Reached(10, 6, 4), "asf": Reached(4, 2, 2)},
    ),
]


def seed_demo_activities(*, username: str = "projektledare") -> int:
    """Add the demo activities as the demo project leader (on the record like any activity).
    Returns how many were added."""
    user = get_user_model().objects.filter(username=username).first()
    county = County.objects.get(code=KRONOBERG)
    if user is None or Activity.objects.filter(county=county).exists():
        return 0
    municipalities = {m.code: m for m in Municipality.objects.filter(county=county)}
    enterprises = list(Enterprise.objects.filter(county=county).order_by("pk")[:2])
    for kind, title, held_on, organiser, codes, audience in DEMO_ACTIVITIES:
        record_activity(
            user=user,
            county=county,
            kind=kind,
            title=title,
            held_on=held_on,
            organiser=organiser,
            municipalities=[municipalities[c] for c in codes],
            enterprises=enterprises if kind == ActivityKind.STUDY_VISIT else (),
            audience=audience,
        )
    return len(DEMO_ACTIVITIES)
