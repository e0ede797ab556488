"""Demo data for `seed_kronoberg --demo`: a handful of fictional Kronoberg ASF.

Names, people and organisation numbers are made up (the numbers have valid check digits, so
they pass the register's validation). Idempotent: an enterprise already in the register by its
organisation number is left as it is.
"""

import datetime

from django.contrib.auth import get_user_model

from municipalities.models import County, Municipality

from .models import Criterion, Enterprise, LegalForm, Status
from .services import EnterpriseData, create_enterprise

KRONOBERG = "07"
C = Criterion

DEMO_ENTERPRISES = [
    # name, org number, legal form, municipality codes, line of business, places, re-use,
    # criteria, status, in the register since, closed on, contact (name, email, phone)
    (
        "Återbruket i Växjö ekonomisk förening",
        "769612-3459",
        LegalForm.ECONOMIC_ASSOCIATION,
        ["0780", "0764"],
        "Återbruk och second hand",
        14,
        True,
        [C.INTEGRATION, C.PARTICIPATION, C.REINVESTMENT, C.INDEPENDENCE],
        Status.ACTIVE,
        datetime.date(2024, 3, 1),
        None,
        ("Anna Återbruk", "anna@aterbruket.example", "0470-10 00 01"),
    ),
    (
        "Gröna Händer Ljungby AB (svb)",
        "559012-3450",
        LegalForm.LIMITED_COMPANY_SVB,
        ["0781"],
        "Trädgårdsskötsel och fastighetsservice",
        8,
        False,
        [C.INTEGRATION, C.PARTICIPATION, C.REINVESTMENT],
        Status.ACTIVE,
        datetime.date(2024, 9, 15),
        None,
        ("Gustav Grön", "gustav@gronahander.example", ""),
    ),
    (
        "Sömnadsverkstaden i Älmhult, ideell förening",
        "802012-3454",
        LegalForm.NON_PROFIT_ASSOCIATION,
        ["0765"],
        "Textilt återbruk och sömnad",
        6,
        True,
        [C.INTEGRATION, C.REINVESTMENT, C.INDEPENDENCE],
        Status.ACTIVE,
        datetime.date(2025, 2, 1),
        None,
        ("Saga Söm", "saga@somnadsverkstaden.example", ""),
    ),
    (
        "Cykelköket Tingsryd ekonomisk förening",
        "769623-4561",
        LegalForm.ECONOMIC_ASSOCIATION,
        ["0763", "0761"],
        "Cykelreparationer och återbruk",
        4,
        True,
        [C.INTEGRATION, C.PARTICIPATION],
        Status.STARTING,
        datetime.date(2026, 9, 1),
        None,
        ("", "info@cykelkoket.example", ""),
    ),
    (
        "Café Gemenskap Markaryd, ideell förening",
        "802023-4566",
        LegalForm.NON_PROFIT_ASSOCIATION,
        ["0767"],
        "Café och catering",
        5,
        False,
        [C.INTEGRATION, C.REINVESTMENT, C.INDEPENDENCE],
        Status.ACTIVE,
        datetime.date(2025, 5, 20),
        None,
        ("Kim Café", "kim@cafegemenskap.example", ""),
    ),
    (
        "Snickeriet Uppvidinge AB",
        "556712-3459",
        LegalForm.LIMITED_COMPANY,
        ["0760"],
        "Snickeri och möbelrenovering",
        3,
        True,
        [C.INTEGRATION],
        Status.CLOSED,
        datetime.date(2024, 1, 10),
        datetime.date(2025, 6, 30),
        ("", "", ""),
    ),
]


def seed_demo_enterprises(*, username: str = "projektledare") -> int:
    """Add the demo ASF missing from Kronoberg's register, as the demo project leader (on the
    record like any addition). Returns how many were added."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return 0
    county = County.objects.get(code=KRONOBERG)
    municipalities = {m.code: m for m in Municipality.objects.filter(county=county)}
    existing = set(Enterprise.objects.values_list("org_number", flat=True))
    added = 0
    for row in DEMO_ENTERPRISES:
        (name, number, form, codes, business, places, reuse, criteria, status, since, closed,
         contact) = row  # fmt: skip
        if number in existing:
            continue
        create_enterprise(
            user=user,
            county=county,
            data=EnterpriseData(
                name=name,
                org_number=number,
                legal_form=form,
                municipalities=tuple(municipalities[c] for c in codes),
                line_of_business=business,
                places=places,
                works_with_reuse=reuse,
                criteria=tuple(criteria),
                status=status,
                registered_on=since,
                closed_on=closed,
                contact_name=contact[0],
                contact_email=contact[1],
                contact_phone=contact[2],
            ),
        )
        added += 1
    return added
