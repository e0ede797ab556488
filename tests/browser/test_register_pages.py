"""The ASF register in a real, Swedish browser: every page passes axe-core (WCAG 2.1 A/AA and
best practices), a form error leads to its field, and a CSV import goes from upload through
its preview (errors per row) to the register."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from municipalities.models import Municipality
from tests.factories import EnterpriseFactory

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

HEADER = "Organisationsnummer;Namn;Juridisk form;Kommuner;Platser i arbetsintegrering"


def csv_file(*rows: str) -> dict:
    text = "\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n"
    return {"name": "asf.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}


@pytest.fixture
def register(leader):
    vaxjo, alvesta = (Municipality.objects.get(code=c) for c in ("0780", "0764"))
    return EnterpriseFactory(
        name="Återbruket i Växjö",
        municipalities=[vaxjo, alvesta],
        works_with_reuse=True,
        criteria=["integration", "participation"],
        contact_name="Anna Återbruk",
        contact_email="anna@aterbruket.example",
        registered_on=datetime.date(2025, 3, 1),
    )


def test_the_register_pages_pass_axe(leader_page, live_server, register, axe_check):
    leader_page.goto(live_server.url + reverse("enterprises:list"))
    assert leader_page.get_by_role("heading", level=1).inner_text() == "ASF-register"
    axe_check(leader_page)

    leader_page.get_by_role("link", name="Återbruket i Växjö").click()
    expect(leader_page.get_by_role("heading", name="Kontaktperson hos företaget")).to_be_visible()
    axe_check(leader_page)

    leader_page.get_by_role("link", name="Ändra uppgifterna").click()
    assert leader_page.get_by_label("Organisationsnummer").input_value() == register.org_number
    axe_check(leader_page)


def test_a_wrong_organisation_number_leads_to_its_field(leader_page, live_server, axe_check):
    leader_page.goto(live_server.url + reverse("enterprises:create"))
    leader_page.get_by_label("Namn").fill("Cykelköket")
    leader_page.get_by_label("Organisationsnummer").fill("769623-4562")
    leader_page.get_by_label("Tingsryd").check()
    with leader_page.expect_navigation():
        leader_page.get_by_role("button", name="Spara företaget").click()

    summary = leader_page.get_by_role("alert")
    expect(summary).to_contain_text("Kontrollsiffran i 769623-4562 stämmer inte")
    assert leader_page.title().startswith("Fel:")
    axe_check(leader_page)
    summary.get_by_role("link", name="Organisationsnummer", exact=False).click()
    expect(leader_page.get_by_label("Organisationsnummer")).to_be_focused()


def test_an_import_from_upload_through_preview_to_the_register(leader_page, live_server, axe_check):
    leader_page.goto(live_server.url + reverse("enterprises:import"))
    axe_check(leader_page)

    leader_page.get_by_label("CSV-fil").set_input_files(
        csv_file("769612-3459;Återbruket;Ekonomisk förening;Växjö;12", "556036-0794;Fel;AB;Lund;-1")
    )
    with leader_page.expect_navigation():
        leader_page.get_by_role("button", name="Förhandsgranska").click()
    expect(leader_page.get_by_role("alert")).to_contain_text("Inget importerades")
    expect(leader_page.get_by_role("table")).to_contain_text(
        "Rad 3, kolumn Kommuner: ”Lund” är inte en kommun i Kronobergs län."
    )
    axe_check(leader_page)

    leader_page.goto(live_server.url + reverse("enterprises:import"))
    leader_page.get_by_label("CSV-fil").set_input_files(
        csv_file("769612-3459;Återbruket;Ekonomisk förening;Växjö, Alvesta;12")
    )
    with leader_page.expect_navigation():
        leader_page.get_by_role("button", name="Förhandsgranska").click()
    expect(leader_page.get_by_role("table")).to_contain_text("Ny: läggs till")
    axe_check(leader_page)
    with leader_page.expect_navigation():
        leader_page.get_by_role("button", name="Importera till registret").click()

    expect(leader_page.get_by_role("status")).to_contain_text("asf.csv är importerad")
    expect(leader_page.get_by_role("link", name="Återbruket")).to_be_visible()


def test_the_list_reflows_to_320_css_pixels(leader_page, live_server, register):
    leader_page.set_viewport_size({"width": 320, "height": 640})
    for url in (reverse("enterprises:list"), reverse("enterprises:import")):
        leader_page.goto(live_server.url + url)
        assert leader_page.evaluate("document.documentElement.scrollWidth") <= 320, url
