"""Input a probe sent to production that raised 500s: a NUL character in a query parameter or
an address, a date in year 9999 in a filter or a form. Each now gets a page that says what is
wrong (400 or the form again), and nothing changes."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.workflows.helpers import (
    current_task,
    field_error,
    snapshot,
    valid_step_data,
    walk_to,
)
from workflows import services

pytestmark = pytest.mark.django_db

YEAR_RANGE = "Ange ett datum mellan åren 1900 och 2100."


@pytest.fixture
def process(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    return process


@pytest.fixture
def admin_client(seeded):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="ada", is_staff=True, is_superuser=True))
    return client


def timeline_urls(process) -> list[str]:
    return [
        reverse("audit:timeline"),
        reverse("audit:process", args=[process.pk]),
        reverse("audit:municipality", args=[process.municipality.pk]),
    ]


def export_urls(process) -> list[str]:
    return [
        reverse("audit:export_csv"),
        reverse("audit:process_csv", args=[process.pk]),
        reverse("audit:municipality_csv", args=[process.municipality.pk]),
        reverse("audit:archive"),
    ]


def test_a_nul_character_in_a_county_parameter_gets_a_swedish_400_page(leader_client, process):
    urls = [
        reverse("workflows:overview"),
        reverse("workflows:processes"),
        reverse("workflows:overview_report"),
        reverse("workflows:overview_chart", args=["progress"]),
        *timeline_urls(process),
        *export_urls(process),
    ]
    for url in urls:
        response = leader_client.get(url, {"county": "07\x00"})

        assert response.status_code == 400, url
        assert "Förfrågan gick inte att läsa" in response.content.decode()
        assert "NUL-tecken" in response.content.decode()


def test_a_nul_character_in_a_municipality_code_in_the_address_gets_400(leader_client, process):
    url = reverse("workflows:overview_municipality", args=["0780"]).replace("0780", "07%0080")
    assert leader_client.get(url).status_code == 400
    assert leader_client.get(url.replace("/0780", "/07%0080") + "report.pdf").status_code == 400


def test_a_nul_character_in_the_people_search_gets_400(admin_client):
    response = admin_client.get(reverse("audit:people"), {"q": "Vera\x00"})
    assert response.status_code == 400


@pytest.mark.parametrize("field", ["until", "since"])
def test_a_filter_date_in_year_9999_is_refused_next_to_the_field_on_every_timeline(
    leader_client, process, field
):
    for url in timeline_urls(process):
        response = leader_client.get(url, {field: "9999-12-31"})

        assert response.status_code == 200, url
        assert field_error(response, field, YEAR_RANGE), url


def test_an_export_with_a_date_in_year_9999_is_refused(leader_client, process):
    for url in export_urls(process):
        response = leader_client.get(url, {"until": "9999-12-31"})
        assert response.status_code == 400, url


def test_a_decision_announced_in_year_9999_is_refused_next_to_the_field(
    leader_client, process, vaxjo_contact
):
    task = current_task(process)
    data = {
        **valid_step_data("decision", vaxjo_contact),
        "certification_date": "9999-12-10",
        "announcement_date": "9999-12-11",
    }
    before = snapshot()

    response = leader_client.post(reverse("workflows:step", args=[task.pk]), data)

    assert response.status_code == 400
    assert field_error(response, "announcement_date", YEAR_RANGE)
    assert snapshot() == before


# Long enough to be looked up as a session key (Django skips keys under 8 characters).
NULS = "\x00" * 32


@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken", "django_language"])
def test_a_nul_character_in_a_cookie_is_ignored_and_the_sign_in_page_answers(seeded, cookie):
    client = Client(raise_request_exception=False)

    response = client.get(reverse("workflows:overview"), HTTP_COOKIE=f"{cookie}={NULS}")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    page = client.get(response["Location"], HTTP_COOKIE=f"{cookie}={NULS}")
    assert page.status_code == 200
    assert "Logga in" in page.content.decode()


def test_djangos_own_400_a_request_with_too_many_fields_gets_the_same_calm_page(client, seeded):
    """Django's bad_request handler renders 400.html without a request context: the page must
    still render, in Swedish, with its footer, and be about the request in general."""
    response = client.get("/", {f"f{n}": "x" for n in range(1001)})  # > DATA_UPLOAD_MAX_...

    assert response.status_code == 400
    page = response.content.decode()
    assert "Förfrågan gick inte att läsa" in page
    assert "för många fält" in page
    assert 'href="mailto:' in page and "Tillgänglighetsredogörelse" in page
