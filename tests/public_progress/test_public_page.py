"""The public progress page as an anonymous Swedish reader sees it: where each municipality of
the county stands, the adopted decisions and the adopted text as a PDF, and nothing of the
project's working material (contact persons, drafts in progress, comments, meeting notes)."""

import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from municipalities.models import Municipality
from tests.factories import ContactFactory
from tests.workflows.helpers import current_task, decision_fields, walk_to
from workflows import services

pytestmark = pytest.mark.django_db

# Working material that must never reach the public: each test run writes it into the record.
SECRETS = {
    "contact name": "Hemliga Hedvig",
    "contact email": "hedvig@alvesta.example",
    "contact phone": "0470-999 99",
    "draft in progress": "UTKAST-UNDER-ARBETE konkurrens",
    "comment": "KOMMENTAR-FRAN-KONTAKT: stryk stycke 3",
    "meeting notes": "MOTESANTECKNING-INTERN",
    "meeting participants": "DELTAGARE-INTERN",
    "first contact notes": "FORSTA-KONTAKT-ANTECKNING",
    "decision notes": "BESLUTSANTECKNING-INTERN",
}

ADOPTED_COMPETITION = "Kommunen använder reserverad upphandling enligt LOU 4 kap. 18 §."
ADOPTED_CUSTOMER = "Kommunen köper arbetsträning av ASF i små delkontrakt."


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def anonymous():
    cache.clear()
    return Client()


@pytest.fixture
def vaxjo_adopted(leader, vaxjo, vaxjo_contact):
    """Växjö adopted its policy: KF § 57, KS 2026/39."""
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")
    services.write_draft(
        task=task,
        user=leader,
        competition_section=ADOPTED_COMPETITION,
        customer_section=ADOPTED_CUSTOMER,
    )
    walk_to(process, leader, vaxjo_contact, "decision")
    services.record_decision(
        task=current_task(process),
        user=leader,
        **decision_fields(),
        notes=SECRETS["decision notes"],
    )
    process.refresh_from_db()
    return process


@pytest.fixture
def alvesta_in_progress(leader):
    """Alvesta's draft came back with a comment: a draft in progress, notes and a contact."""
    alvesta = Municipality.objects.get(code="0764")
    contact = ContactFactory(
        municipality=alvesta,
        name=SECRETS["contact name"],
        email=SECRETS["contact email"],
        phone=SECRETS["contact phone"],
    )
    process = services.start_process(municipality=alvesta, user=leader)
    services.record_first_contact(
        task=current_task(process),
        user=leader,
        contacted_on=process.created.date(),
        channel="email",
        contacts=[contact],
        approvers=[contact],
        notes=SECRETS["first contact notes"],
    )
    services.record_meeting(
        process=process,
        user=leader,
        held_on=process.created.date(),
        participants=SECRETS["meeting participants"],
        notes=SECRETS["meeting notes"],
    )
    services.complete_dialogue(task=current_task(process), user=leader)
    services.write_draft(
        task=current_task(process),
        user=leader,
        competition_section=SECRETS["draft in progress"],
        customer_section="Kund",
    )
    walk_to(process, leader, contact, "approval")
    services.answer_approval(
        task=current_task(process),
        contact=contact,
        answer="changes_requested",
        comment=SECRETS["comment"],
    )
    return process


def test_anonymous_swedish_reader_sees_each_municipality_and_the_adopted_decision(
    anonymous, vaxjo_adopted, alvesta_in_progress
):
    response = anonymous.get("/offentlig/kronoberg/")

    assert response.status_code == 200
    assert response["Content-Language"] == "sv"
    page = response.content.decode()
    assert "ASF-policyer i Kronobergs län" in page
    assert "1 av 8 kommuner har antagit en policy" in page
    # Every municipality of the county, with its stage in plain Swedish.
    for name in ["Uppvidinge", "Lessebo", "Tingsryd", "Alvesta", "Älmhult", "Markaryd", "Ljungby"]:
        assert name in page
    assert "Inte påbörjat ännu" in page
    assert "En policy tas fram" in page  # Alvesta: the draft went back for changes
    # Växjö's decision as the minutes show it, and its adopted text.
    assert "Policyn antagen" in page
    assert "Kommunfullmäktige (KF)" in page
    assert "§ 57" in page
    assert "KS 2026/39" in page
    assert 'id="kommun-0780"' in page
    assert "/offentlig/kronoberg/vaxjo/policy.pdf" in page


def test_nothing_of_the_working_material_reaches_the_public(
    anonymous, vaxjo_adopted, alvesta_in_progress
):
    pages = [
        anonymous.get(url).content.decode()
        for url in (
            "/offentlig/",
            "/offentlig/kronoberg/",
            "/offentlig/kronoberg/alvesta/",
            "/offentlig/kronoberg/vaxjo/",
            "/offentlig/kronoberg/?lang=en",
        )
    ]
    pages.append(pdf_text(anonymous.get("/offentlig/kronoberg/vaxjo/policy.pdf").content))
    contact = vaxjo_adopted.municipality.contacts.get()
    leaked = {
        **SECRETS,
        "växjö contact": contact.name,
        "växjö contact email": contact.email,
        "project leader": "Projektledare",
    }
    for page in pages:
        for what, text in leaked.items():
            assert text not in page, f"{what} leaked"
    # A draft in progress has no PDF.
    assert anonymous.get("/offentlig/kronoberg/alvesta/policy.pdf").status_code == 404


def test_adopted_policy_pdf_holds_the_decision_and_the_adopted_text(anonymous, vaxjo_adopted):
    response = anonymous.get("/offentlig/kronoberg/vaxjo/policy.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "ASF-policy för Växjö" in text
    assert "KS 2026/39" in text
    assert "§ 57" in text
    assert "reserverad upphandling" in text
    assert "arbetsträning av ASF" in text


def test_a_municipality_has_its_own_page_and_codes_lead_to_the_readable_address(
    anonymous, vaxjo_adopted
):
    page = anonymous.get("/offentlig/kronoberg/vaxjo/").content.decode()
    assert "ASF-policy i Växjö" in page
    assert "KS 2026/39" in page

    assert anonymous.get("/offentlig/07/")["Location"] == "/offentlig/kronoberg/"
    assert anonymous.get("/offentlig/07/0780/")["Location"] == "/offentlig/kronoberg/vaxjo/"
    assert anonymous.get("/offentlig/kronoberg/finns-inte/").status_code == 404


def test_only_counties_that_publish_are_shown(anonymous, vaxjo_adopted):
    page = anonymous.get("/offentlig/").content.decode()

    assert "Kronobergs län" in page
    assert "Skåne län" not in page
    assert anonymous.get("/offentlig/skane/").status_code == 404


def test_english_is_one_link_away(anonymous, vaxjo_adopted):
    page = anonymous.get("/offentlig/kronoberg/").content.decode()
    assert 'href="/offentlig/kronoberg/?lang=en"' in page

    response = anonymous.get("/offentlig/kronoberg/?lang=en")
    english = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "ASF policies in Kronobergs län" in english
    assert "Policy adopted" in english
    assert "/offentlig/kronoberg/vaxjo/policy.pdf?lang=en" in english


def test_public_page_is_cacheable_by_anyone(anonymous, vaxjo_adopted):
    response = anonymous.get("/offentlig/kronoberg/")
    assert "public" in response["Cache-Control"]
    assert "csrftoken" not in response.cookies


def test_a_recorded_change_shows_at_once(anonymous, vaxjo_adopted, leader):
    assert "Ljungby" in anonymous.get("/offentlig/kronoberg/").content.decode()
    ljungby = Municipality.objects.get(code="0781")
    before = anonymous.get("/offentlig/kronoberg/ljungby/").content.decode()
    assert "Inte påbörjat ännu" in before

    services.start_process(municipality=ljungby, user=leader)

    after = anonymous.get("/offentlig/kronoberg/ljungby/").content.decode()
    assert "Projektet har kontaktat kommunen" in after


def queries(url: str) -> int:
    client = Client()
    client.get(url)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_public_page_queries_stay_flat_with_more_processes(leader, vaxjo_adopted):
    small = queries("/offentlig/kronoberg/")
    for municipality in Municipality.objects.filter(county__code="07").exclude(code="0780"):
        contact = ContactFactory(municipality=municipality)
        process = services.start_process(municipality=municipality, user=leader)
        walk_to(process, leader, contact, "draft")
    large = queries("/offentlig/kronoberg/")

    assert small == large
    assert large <= 5


def test_a_cached_public_page_costs_one_query(anonymous, vaxjo_adopted):
    anonymous.get("/offentlig/kronoberg/")
    with CaptureQueriesContext(connection) as captured:
        assert anonymous.get("/offentlig/kronoberg/").status_code == 200
    assert len(captured) <= 2


def test_a_county_appears_with_its_project_even_before_any_process(anonymous, kalmar_leader):
    page = anonymous.get("/offentlig/kalmar/").content.decode()

    assert "ASF-policyer i Kalmar län" in page
    assert "0 av 12 kommuner har antagit en policy" in page
    assert page.count("Inte påbörjat ännu") >= 12
