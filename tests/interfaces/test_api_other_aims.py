"""The API's endpoints for the other aims (the ASF register, knowledge spreading, the
collaboration organisation) as each persona sees them: the same counties as the pages, the
business contact only for those who may see personal data, queries that stay flat."""

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openapi_spec_validator import validate

from municipalities.models import County, Municipality
from network import services as network
from outreach import services as outreach
from outreach.services import Reached
from tests.factories import EnterpriseFactory

from .test_api import api, everything, queries, token_for

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "enterprises",
    "activities",
    "network-organisations",
    "network-members",
    "network-meetings",
    "network-milestones",
]
CONTACT = {"name": "Anna Asfsson", "email": "anna@asf.example", "phone": "0470-123 45"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def build_county(user, code: str, municipality_code: str, *, n: int = 1) -> dict:
    """``n`` enterprises, activities and members, with one organisation, meeting, milestone."""
    county = County.objects.get(code=code)
    municipality = Municipality.objects.get(code=municipality_code)
    organisation = network.form_organisation(user=user, county=county, name=f"Samverkan {code}")
    made = {"enterprises": [], "activities": [], "members": []}
    for i in range(n):
        enterprise = EnterpriseFactory(
            county=county,
            municipalities=[municipality],
            contact_name=CONTACT["name"],
            contact_email=CONTACT["email"],
            contact_phone=CONTACT["phone"],
        )
        made["enterprises"].append(enterprise)
        made["activities"].append(
            outreach.record_activity(
                user=user,
                county=county,
                kind="seminar",
                title=f"Seminarium {code} {i}",
                held_on=datetime.date(2026, 3, 1),
                organiser="Region",
                municipalities=[municipality],
                enterprises=[enterprise],
                audience={"municipality": Reached(10, 6, 4), "asf": Reached(3, None, None)},
            )
        )
        made["members"].append(
            network.add_member(
                user=user,
                organisation=organisation,
                enterprise=enterprise,
                joined_on=datetime.date(2026, 1, 1),
            )
        )
    made["meeting"] = network.record_meeting(
        user=user,
        organisation=organisation,
        held_on=datetime.date(2026, 2, 1),
        agenda="Stadgar",
        attendees=made["enterprises"],
        minutes_file=SimpleUploadedFile("prot.pdf", PDF, content_type="application/pdf"),
    )
    made["milestone"] = network.record_milestone(
        user=user,
        organisation=organisation,
        kind="statutes_adopted",
        reached_on=datetime.date(2026, 2, 1),
    )
    made["organisation"] = organisation
    return made


@pytest.fixture
def aims(settings, tmp_path, leader, kalmar_leader):
    settings.MEDIA_ROOT = tmp_path
    return {
        "07": build_county(leader, "07", "0780"),
        "08": build_county(kalmar_leader, "08", "0880"),
    }


def one_of_a(aims, path: str):
    a = aims["07"]
    return {
        "enterprises": a["enterprises"][0],
        "activities": a["activities"][0],
        "network-organisations": a["organisation"],
        "network-members": a["members"][0],
        "network-meetings": a["meeting"],
        "network-milestones": a["milestone"],
    }[path]


@pytest.fixture
def personas(leader, kalmar_leader, steering, reference, national):
    return {
        "leader A": (leader, {"07"}),
        "leader B": (kalmar_leader, {"08"}),
        "steering A": (steering, {"07"}),
        "reference A": (reference, {"07"}),
        "national reader": (national, {"07", "08"}),
    }


@pytest.mark.parametrize("path", ENDPOINTS)
def test_each_persona_reads_its_counties_and_another_countys_row_is_not_found(
    client, aims, personas, kalmar_leader, path
):
    row_of_a = one_of_a(aims, path)
    for persona, (user, counties) in personas.items():
        token = token_for(user)
        rows = everything(client, path, token)
        assert {row["county"] for row in rows} == counties, f"{persona} at {path}"
        detail = api(client, f"{path}/{row_of_a.pk}", token)
        assert detail.status_code == (200 if "07" in counties else 404), persona

    # The county filter, as on the other endpoints.
    national_token = token_for(personas["national reader"][0])
    filtered = api(client, path, national_token, county="08").json()["results"]
    assert filtered and {row["county"] for row in filtered} == {"08"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_callers_are_refused(client, aims, path):
    response = api(client, path)
    assert response.status_code == 401
    assert api(client, f"{path}/{one_of_a(aims, path).pk}").status_code == 401


def test_business_contact_only_for_those_who_may_see_personal_data(
    client, aims, leader, steering, reference, national
):
    pk = aims["07"]["enterprises"][0].pk
    for user in (leader, steering):
        enterprise = api(client, f"enterprises/{pk}", token_for(user)).json()
        assert enterprise["contact"] == CONTACT
    for user in (reference, national):
        token = token_for(user)
        enterprise = api(client, f"enterprises/{pk}", token).json()
        assert enterprise["contact"] is None
        listed = json.dumps(everything(client, "enterprises", token), ensure_ascii=False)
        assert CONTACT["name"] not in listed and CONTACT["email"] not in listed
        assert CONTACT["phone"] not in listed


def test_activity_shows_its_audience_and_meeting_links_its_minutes(client, aims, leader):
    token = token_for(leader)
    activity = api(client, f"activities/{aims['07']['activities'][0].pk}", token).json()
    assert activity["kind_label"] == "Seminarium"
    assert activity["reached_total"] == 13
    assert activity["municipalities"] == ["0780"]
    assert activity["audience"][0] == {
        "actor_type": "municipality",
        "actor_type_label": "Kommun",
        "total": 10,
        "women": 6,
        "men": 4,
        "other": None,
    }

    meeting = aims["07"]["meeting"]
    body = api(client, f"network-meetings/{meeting.pk}", token)
    assert body.json()["minutes_url"].endswith(f"/network/meetings/{meeting.pk}/minutes/")
    assert b"%PDF" not in body.content


def test_queries_stay_flat_with_more_rows(settings, tmp_path, seeded, leader, national):
    settings.MEDIA_ROOT = tmp_path
    client = Client()
    token = token_for(national)
    build_county(leader, "07", "0780", n=1)
    small = {path: queries(client, token, path) for path in ENDPOINTS}
    build_county(leader, "06", "0680", n=6)
    large = {path: queries(client, token, path) for path in ENDPOINTS}
    assert small == large


def test_schema_stays_valid_and_describes_the_new_endpoints(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    validate(schema)
    for path in ENDPOINTS:
        assert f"/api/v1/{path}/" in schema["paths"]
        assert f"/api/v1/{path}/{{id}}/" in schema["paths"]
        parameters = schema["paths"][f"/api/v1/{path}/"]["get"]["parameters"]
        assert "county" in {p["name"] for p in parameters}
    contact = schema["components"]["schemas"]["Enterprise"]["properties"]["contact"]
    assert contact.get("nullable") or "oneOf" in contact or "allOf" in contact
