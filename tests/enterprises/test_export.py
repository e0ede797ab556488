"""CSV export: streamed, as Excel in Sweden reads it, and read back in by the import unchanged."""

import datetime

import pytest
from django.urls import reverse

from enterprises.register_csv import read_import
from municipalities.models import Municipality
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(kronoberg):
    vaxjo, alvesta, ljungby = (Municipality.objects.get(code=c) for c in ("0780", "0764", "0781"))
    EnterpriseFactory(
        name='Återbruket; Växjö "ek. för."',
        municipalities=[vaxjo, alvesta],
        places=12,
        works_with_reuse=True,
        criteria=["integration", "independence"],
        contact_name="Anna Återbruk",
        contact_email="anna@aterbruket.example",
        contact_phone="+46 470 10 00 01",
        registered_on=datetime.date(2025, 3, 1),
    )
    EnterpriseFactory(
        name="Snickeriet AB",
        legal_form="aktiebolag",
        municipalities=[ljungby],
        status="closed",
        registered_on=datetime.date(2024, 1, 10),
        closed_on=datetime.date(2025, 6, 30),
        line_of_business='=HYPERLINK("http://evil.example")',
    )


def export(client, **params) -> tuple[str, object]:
    response = client.get(reverse("enterprises:export"), params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode("utf-8"), response


def test_the_export_is_excel_csv_with_swedish_headers_and_values(leader_client, register):
    text, response = export(leader_client)
    assert text.startswith("\ufeffOrganisationsnummer;Namn;Juridisk form;Kommuner;")
    assert "attachment;" in response["Content-Disposition"]
    lines = text.splitlines()
    assert len(lines) == 3
    assert "Alvesta, Växjö" in text or "Växjö, Alvesta" in text
    assert ";Avslutad;2024-01-10;2025-06-30;" in text
    assert "Anna Återbruk;anna@aterbruket.example;'+46 470 10 00 01" in text
    # A cell a spreadsheet would run as a formula is written as text.
    assert ";\"'=HYPERLINK(" in text


def test_the_export_read_back_in_changes_nothing(leader_client, register, kronoberg):
    text, _response = export(leader_client)
    preview = read_import(text, county=kronoberg)
    assert preview.is_valid, [(r.number, r.errors) for r in preview.rows]
    assert [row.action for row in preview.rows] == ["unchanged", "unchanged"]


def test_a_comma_separated_export_reads_back_too(leader_client, register, kronoberg):
    text, _response = export(leader_client, delimiter="comma")
    assert text.startswith("\ufeffOrganisationsnummer,Namn,")
    assert [row.action for row in read_import(text, county=kronoberg).rows] == [
        "unchanged",
        "unchanged",
    ]


def test_the_reference_group_exports_without_the_business_contacts(client, reference, register):
    client.force_login(reference)
    text, _response = export(client)
    assert "Kontaktperson" not in text
    assert "Anna Återbruk" not in text and "anna@aterbruket.example" not in text
    assert "Snickeriet AB" in text


def test_another_county_exports_none_of_kronobergs(client, kalmar_leader, register):
    client.force_login(kalmar_leader)
    text, _response = export(client)
    assert text.splitlines() == [text.splitlines()[0]]  # the header only


def test_the_filters_of_the_list_apply(leader_client, register):
    text, _response = export(leader_client, status="closed")
    assert "Snickeriet AB" in text and "Återbruket" not in text
