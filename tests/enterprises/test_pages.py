"""The register's pages: who reads and writes what, in Swedish, scoped to the county, with a
bounded number of queries."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from enterprises.models import Enterprise
from municipalities.models import County, Municipality
from tests.factories import EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aterbruket(kronoberg, vaxjo):
    return EnterpriseFactory(
        name="Återbruket i Växjö",
        org_number="769612-3459",
        municipalities=[vaxjo],
        criteria=["integration", "reinvestment"],
        contact_name="Anna Återbruk",
        contact_email="anna@aterbruket.example",
    )


@pytest.fixture
def kalmar_asf(seeded):
    kalmar = County.objects.get(code="08")
    return EnterpriseFactory(
        name="Kalmar Återbruk",
        county=kalmar,
        municipalities=[Municipality.objects.get(code="0880")],
    )


def form_data(**changes) -> dict:
    data = {
        "county": County.objects.get(code="07").pk,
        "name": "Cykelköket",
        "org_number": "7696234561",
        "legal_form": "ekonomisk_forening",
        "municipalities": [Municipality.objects.get(code="0763").pk],
        "places": "4",
        "criteria": ["integration", "participation"],
        "status": "starting",
        "registered_on": "2026-09-01",
        "closed_on": "",
        "contact_name": "",
        "contact_email": "info@cykelkoket.example",
        "contact_phone": "",
    }
    data.update(changes)
    return data


def test_the_steering_group_reads_the_list_and_the_business_contact(client, steering, aterbruket):
    client.force_login(steering)
    page = client.get(reverse("enterprises:list")).content.decode()
    assert "ASF-register" in page and "Återbruket i Växjö" in page
    assert "Lägg till ett ASF" not in page  # read-only
    detail = client.get(reverse("enterprises:detail", args=[aterbruket.pk])).content.decode()
    assert "Uppfyller 2 av de 4 kriterierna." in detail
    assert "Anna Återbruk" in detail


def test_the_reference_group_does_not_see_the_business_contact(client, reference, aterbruket):
    client.force_login(reference)
    detail = client.get(reverse("enterprises:detail", args=[aterbruket.pk])).content.decode()
    assert "Återbruket i Växjö" in detail
    assert "Anna Återbruk" not in detail and "anna@aterbruket.example" not in detail


def test_another_countys_enterprise_answers_404(client, kalmar_leader, aterbruket, kalmar_asf):
    client.force_login(kalmar_leader)
    page = client.get(reverse("enterprises:list")).content.decode()
    assert "Kalmar Återbruk" in page and "Återbruket i Växjö" not in page
    assert client.get(reverse("enterprises:detail", args=[aterbruket.pk])).status_code == 404
    assert client.get(reverse("enterprises:edit", args=[aterbruket.pk])).status_code == 404
    response = client.post(reverse("enterprises:edit", args=[aterbruket.pk]), form_data())
    assert response.status_code == 404
    assert Enterprise.objects.get(pk=aterbruket.pk).name == "Återbruket i Växjö"


def test_a_user_without_a_role_in_any_county_is_refused(client, aterbruket):
    client.force_login(UserFactory())
    assert client.get(reverse("enterprises:list")).status_code == 403
    assert client.get(reverse("enterprises:export")).status_code == 403


def test_only_leaders_of_the_county_write(client, steering, aterbruket):
    client.force_login(steering)
    assert client.get(reverse("enterprises:create")).status_code == 403
    assert client.post(reverse("enterprises:create"), form_data()).status_code == 403
    assert client.get(reverse("enterprises:edit", args=[aterbruket.pk])).status_code == 403
    assert Enterprise.objects.count() == 1


def test_a_leader_adds_an_enterprise_and_it_is_on_the_record(leader_client, leader):
    response = leader_client.post(reverse("enterprises:create"), form_data())
    enterprise = Enterprise.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("enterprises:detail", args=[enterprise.pk])
    assert enterprise.org_number == "769623-4561"  # stored with its hyphen
    assert [m.code for m in enterprise.municipalities.all()] == ["0763"]
    events = AuditEvent.objects.filter(model_label="enterprises.enterprise").order_by("seq")
    assert [e.summary for e in events] == [
        "ASF tillagt i registret: Cykelköket",
        "Kommuner där Cykelköket verkar registrerade",
    ]
    assert {(e.actor_user_id, e.county_code, e.reason) for e in events} == {
        (leader.pk, "07", "Tillagt i ASF-registret")
    }
    # The business contact is personal data: kept apart from the event's public changes.
    assert "contact_email" not in events[0].changes
    assert "contact_email" in events[0].personal["changes"]


def test_a_wrong_organisation_number_is_refused_in_swedish_and_nothing_saved(leader_client):
    response = leader_client.post(
        reverse("enterprises:create"), form_data(org_number="769623-4562")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Kontrollsiffran i 769623-4562 stämmer inte" in page
    assert "<title>Fel:" in page
    assert Enterprise.objects.count() == 0


def test_a_municipality_of_another_county_is_refused(leader_client):
    kalmar = Municipality.objects.get(code="0880")
    response = leader_client.post(
        reverse("enterprises:create"), form_data(municipalities=[kalmar.pk])
    )
    assert response.status_code == 400
    assert Enterprise.objects.count() == 0


def test_closing_an_enterprise_reads_on_the_trail(leader_client, aterbruket):
    vaxjo = aterbruket.municipalities.get()
    data = form_data(
        name=aterbruket.name,
        org_number=aterbruket.org_number,
        municipalities=[vaxjo.pk],
        status="closed",
        registered_on="2026-01-01",
        closed_on="2026-11-30",
    )
    response = leader_client.post(reverse("enterprises:edit", args=[aterbruket.pk]), data)
    assert response.status_code == 302
    event = AuditEvent.objects.filter(model_label="enterprises.enterprise").latest("seq")
    assert event.summary == "ASF avslutat: Återbruket i Växjö"
    assert event.changes["status"] == ["active", "closed"]
    assert event.reason == "Ändrat i ASF-registret"
    timeline = leader_client.get(reverse("audit:timeline")).content.decode()
    assert "ASF avslutat: Återbruket i Växjö" in timeline


def test_the_list_filters_by_municipality_status_and_search(client, steering, aterbruket):
    EnterpriseFactory(name="Gröna Händer", municipalities=[Municipality.objects.get(code="0781")])
    client.force_login(steering)
    url = reverse("enterprises:list")
    page = client.get(url, {"municipality": "0781"}).content.decode()
    assert "Gröna Händer" in page and "Återbruket i Växjö" not in page
    page = client.get(url, {"q": "769612"}).content.decode()
    assert "Återbruket i Växjö" in page and "Gröna Händer" not in page
    page = client.get(url, {"status": "closed"}).content.decode()
    assert "Inget företag matchar." in page


def _queries(client, url: str) -> int:
    client.get(url)  # warm-up: per-process caches
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _build(count: int) -> None:
    municipalities = list(Municipality.objects.filter(county__code="07"))
    for n in range(count):
        EnterpriseFactory(
            municipalities=municipalities[n % 8 : n % 8 + 2],
            registered_on=datetime.date(2025, 1, 1),
        )


def test_the_list_and_detail_run_the_same_queries_for_3_and_60_enterprises(client, steering):
    client.force_login(steering)
    _build(3)
    url = reverse("enterprises:list")
    detail = reverse("enterprises:detail", args=[Enterprise.objects.first().pk])
    small, small_detail = _queries(client, url), _queries(client, detail)
    _build(57)
    assert _queries(client, url) == small
    assert _queries(client, detail) == small_detail
    assert small <= 12


def test_the_change_form_shows_the_enterprise_as_it_is(leader_client, aterbruket):
    page = leader_client.get(reverse("enterprises:edit", args=[aterbruket.pk])).content.decode()
    assert "Ändra Återbruket i Växjö" in page
    assert 'value="769612-3459"' in page
    checked = re.findall(r'name="criteria" value="(\w+)" id="\w+" checked', page)
    assert checked == ["integration", "reinvestment"]
    assert "anna@aterbruket.example" in page


def test_the_trail_reads_the_changes_in_words(leader_client, aterbruket):
    from django.utils import translation

    from audit.readable import Resolver, readable_changes

    data = form_data(
        name=aterbruket.name,
        org_number=aterbruket.org_number,
        municipalities=[m.pk for m in aterbruket.municipalities.all()],
        criteria=["integration", "independence"],
        works_with_reuse="on",
        registered_on=aterbruket.registered_on.isoformat(),
        status="active",
        contact_name="Anna Återbruk",
        contact_email="anna@aterbruket.example",
    )
    leader_client.post(reverse("enterprises:edit", args=[aterbruket.pk]), data)
    event = AuditEvent.objects.filter(model_label="enterprises.enterprise").latest("seq")
    with translation.override("sv"):
        changes = {
            c.label: (c.old, c.new)
            for c in readable_changes(event.model_label, event.changes, Resolver())
        }
    assert changes["Arbetar med återbruk"] == ("Nej", "Ja")
    old, new = changes["Uppfyllda kriterier enligt Tillväxtverket"]
    assert old.endswith(
        "; Återinvesterar i huvudsak sina vinster i den egna eller liknande verksamheter"
    )
    assert new.endswith("; Är fristående från offentlig verksamhet")


def test_a_national_reader_reads_every_county_without_contacts_and_writes_nothing(
    client, national, aterbruket, kalmar_asf
):
    client.force_login(national)
    page = client.get(reverse("enterprises:list")).content.decode()
    assert "Återbruket i Växjö" in page and "Kalmar Återbruk" in page
    detail = client.get(reverse("enterprises:detail", args=[aterbruket.pk])).content.decode()
    assert "Anna Återbruk" not in detail
    assert client.get(reverse("enterprises:create")).status_code == 403
    assert client.get(reverse("enterprises:edit", args=[aterbruket.pk])).status_code == 403
