"""CSV import: a preview names every error by row and column and saves nothing; a file whose
rows are all right is imported whole, in one transaction, and is on the record."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from enterprises.models import Enterprise, ImportBatch
from municipalities.models import County, Municipality
from tests.factories import EnterpriseFactory

from .conftest import HEADER, csv_bytes, upload

pytestmark = pytest.mark.django_db

GOOD = [
    ["769612-3459", "Återbruket i Växjö", "Ekonomisk förening", "Växjö, Alvesta", "12", "ja",
     "1, 2, 3, 4", "Aktiv", "2026-01-15"],
    ["559012-3450", "Gröna Händer AB", "aktiebolag_svb", "0781", "8", "nej", "1,3", "",
     ""],
]  # fmt: skip


def preview(client, content: bytes, name: str = "asf.csv", county: str = "07"):
    """Upload a file for its preview, as the upload form sends it (the county is a hidden
    field for a leader of one county)."""
    county_id = County.objects.get(code=county).pk
    return client.post(
        reverse("enterprises:import"), {"file": upload(name, content), "county": county_id}
    )


def confirm_fields(response) -> dict:
    html = response.content.decode()
    form = html[html.index('action="' + reverse("enterprises:import_confirm")) :]
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))


def test_every_error_is_named_by_row_and_column_and_nothing_is_saved(leader_client):
    rows = [
        GOOD[0],
        ["556036-0794", "Fel kontrollsiffra AB", "Aktiebolag", "Växjö", "3", "ja", "", "", ""],
        ["802012-3454", "Okänd kommun", "Ideell förening", "Kalmar", "-2", "kanske", "7", "", ""],
    ]
    events_before = AuditEvent.objects.count()

    response = preview(leader_client, csv_bytes(rows))

    assert response.status_code == 400
    page = response.content.decode()
    assert "Inget importerades" in page
    assert "Rad 3, kolumn Organisationsnummer: Kontrollsiffran i 556036-0794 stämmer inte" in page
    assert "Rad 4, kolumn Kommuner: ”Kalmar” är inte en kommun i Kronobergs län." in page
    assert "Rad 4, kolumn Platser i arbetsintegrering: ”-2” är inte ett antal platser" in page
    assert "Rad 4, kolumn Återbruk: ”kanske” är varken ”ja” eller ”nej”." in page
    assert "Rad 4, kolumn Kriterier: ”7” är inte ett av Tillväxtverkets kriterier" in page
    assert "Importera till registret" not in page  # no confirm button
    assert Enterprise.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_a_valid_file_is_previewed_then_imported_whole_and_on_the_record(leader_client, leader):
    response = preview(leader_client, csv_bytes(GOOD), name="register-2026.csv")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ny: läggs till" in page
    assert Enterprise.objects.count() == 0  # the preview saves nothing

    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    done = leader_client.post(reverse("enterprises:import_confirm"), confirm_fields(response))

    assert done.status_code == 302
    first = Enterprise.objects.get(org_number="769612-3459")
    assert sorted(m.name for m in first.municipalities.all()) == ["Alvesta", "Växjö"]
    assert first.places == 12 and first.works_with_reuse and len(first.criteria) == 4
    second = Enterprise.objects.get(org_number="559012-3450")
    assert second.legal_form == "aktiebolag_svb" and second.status == "active"
    assert list(second.criteria) == ["integration", "reinvestment"]

    batch = ImportBatch.objects.get()
    assert (batch.rows, batch.created, batch.updated) == (2, 2, 0)
    trail = AuditEvent.objects.filter(seq__gt=before).order_by("seq")
    assert {e.county_code for e in trail} == {"07"}  # Kronoberg's timeline
    summaries = [e.summary for e in trail]
    assert "ASF tillagt i registret: Återbruket i Växjö" in summaries
    assert "Registret importerades från register-2026.csv: 2 rader, 2 nya, 0 ändrade" in summaries
    assert {e.reason for e in trail} == {"CSV-import: register-2026.csv"}, [
        (e.summary, e.reason) for e in trail
    ]
    assert {e.actor_user_id for e in trail} == {leader.pk}


def test_a_row_already_in_the_register_changes_it_and_the_trail_says_what(leader_client, vaxjo):
    EnterpriseFactory(org_number="769612-3459", name="Återbruket", places=3, municipalities=[vaxjo])

    response = preview(leader_client, csv_bytes(GOOD[:1]))
    assert "Ändras: Namn, platser i arbetsintegrering" in response.content.decode()
    leader_client.post(reverse("enterprises:import_confirm"), confirm_fields(response))

    enterprise = Enterprise.objects.get(org_number="769612-3459")
    assert (enterprise.name, enterprise.places) == ("Återbruket i Växjö", 12)
    event = AuditEvent.objects.filter(summary="ASF ändrat: Återbruket i Växjö").get()
    assert event.changes["places"] == [3, 12]


def test_a_file_not_saved_as_utf8_is_refused_with_how_to_save_it(leader_client):
    content = csv_bytes(GOOD).decode("utf-8").lstrip("\ufeff").encode("cp1252")
    response = preview(leader_client, content)
    assert response.status_code == 400
    assert "Filen är inte sparad som UTF-8" in response.content.decode()


def test_comma_separated_without_bom_reads_too(leader_client):
    rows = [[f'"{cell}"' if "," in cell else cell for cell in row] for row in GOOD]
    content = csv_bytes(rows, delimiter=",").decode("utf-8").lstrip("\ufeff").encode()
    response = preview(leader_client, content)
    assert response.status_code == 200, response.content.decode()
    assert response.content.decode().count("Ny: läggs till") == 2


def test_a_missing_required_column_is_named(leader_client):
    header = [h for h in HEADER if h != "Kommuner"]
    rows = [[c for i, c in enumerate(GOOD[0]) if HEADER[i] != "Kommuner"]]
    response = preview(leader_client, csv_bytes(rows, header=header))
    assert response.status_code == 400
    assert "Rubrikraden saknar kolumnen/kolumnerna: Kommuner." in response.content.decode()


def test_the_same_number_twice_in_one_file_is_an_error_on_the_second_row(leader_client):
    response = preview(leader_client, csv_bytes([GOOD[0], GOOD[0]]))
    assert "Rad 3, kolumn Organisationsnummer: 769612-3459 finns också på rad 2" in (
        response.content.decode()
    )


def test_a_confirm_with_a_changed_file_imports_nothing(leader_client):
    response = preview(leader_client, csv_bytes(GOOD))
    fields = confirm_fields(response)
    other = csv_bytes(GOOD[:1])
    import base64

    fields["content"] = base64.b64encode(other.decode("utf-8").lstrip("\ufeff").encode()).decode()
    leader_client.post(reverse("enterprises:import_confirm"), fields)
    assert Enterprise.objects.count() == 0


def test_only_a_leader_of_the_county_imports(client, steering, kalmar_leader):
    client.force_login(steering)
    assert client.get(reverse("enterprises:import")).status_code == 403
    assert preview(client, csv_bytes(GOOD)).status_code == 403
    client.force_login(kalmar_leader)
    assert preview(client, csv_bytes(GOOD)).status_code == 400  # not Kronoberg's leader
    # Kalmar's leader imports into Kalmar only: Växjö is not a municipality there.
    response = preview(client, csv_bytes(GOOD), county="08")
    assert "är inte en kommun i Kalmar län" in response.content.decode()
    assert Enterprise.objects.count() == 0


def test_a_register_changed_since_the_preview_stops_the_import_and_says_why(leader_client):
    response = preview(leader_client, csv_bytes(GOOD))
    # Meanwhile, Kalmar's leader registers one of the file's numbers in Kalmar.
    EnterpriseFactory(
        org_number="559012-3450",
        county=County.objects.get(code="08"),
        municipalities=[Municipality.objects.get(code="0880")],
    )

    again = leader_client.post(reverse("enterprises:import_confirm"), confirm_fields(response))

    assert again.status_code == 409
    assert "Rad 3, kolumn Organisationsnummer: 559012-3450 finns i ett annat läns register." in (
        again.content.decode()
    )
    assert not Enterprise.objects.filter(county__code="07").exists()
    assert not ImportBatch.objects.exists()


def test_a_workbook_uploaded_instead_of_csv_is_refused_in_words(leader_client):
    workbook = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256))
    response = preview(leader_client, workbook, name="asf.xlsx")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Filen är inte sparad som UTF-8" in page or "Filen är inte en CSV-textfil" in page
    assert Enterprise.objects.count() == 0


def test_a_text_file_with_a_nul_character_is_refused_in_words(leader_client):
    response = preview(leader_client, csv_bytes([["769612-3459", "A\x00B", "aktiebolag", "Växjö"]]))
    assert response.status_code == 400
    assert "Filen är inte en CSV-textfil: spara den som CSV UTF-8." in response.content.decode()


def test_a_date_outside_the_years_people_write_is_an_error(leader_client):
    row = GOOD[0][:8] + ["0001-01-01"]
    response = preview(leader_client, csv_bytes([row]))
    assert "Rad 2, kolumn I registret sedan: ”0001-01-01” är inte ett datum" in (
        response.content.decode()
    )
