"""The read-only API as each persona sees it: the same counties as the pages, the same rules on
personal data, tokens that stop working when revoked, an OpenAPI description that validates."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openapi_spec_validator import validate

from audit.models import AuditEvent
from interfaces import services
from interfaces.models import ApiToken
from municipalities.models import County, Municipality
from tests.factories import ContactFactory
from tests.workflows.helpers import walk_to
from workflows import services as workflow_services

from .conftest import CONTACT_NAME

pytestmark = pytest.mark.django_db

ENDPOINTS = ["counties", "municipalities", "processes", "decisions", "audit-events"]


def api(client, path: str, token: str | None = None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return client.get(f"/api/v1/{path}/", params, **headers)


def token_for(user) -> str:
    return services.create_api_token(user=user, name="Integration", actor=user)[1]


def everything(client, path, token) -> list[dict]:
    """Every row of a list, following the cursor pages."""
    rows, url = [], f"/api/v1/{path}/"
    while url:
        response = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        url = body["next"]
    return rows


def county_codes(path: str, rows: list[dict]) -> set[str]:
    key = {"counties": "code", "audit-events": "county_code"}.get(path, "county")
    return {row[key] for row in rows}


@pytest.fixture
def personas(leader, kalmar_leader, steering, reference, national):
    return {
        "leader A": (leader, {"07"}),
        "leader B": (kalmar_leader, {"08"}),
        "steering A": (steering, {"07"}),
        "reference A": (reference, {"07"}),
        "national reader": (national, None),  # every county
    }


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_is_scoped_to_the_personas_counties(client, record, personas, path):
    for persona, (user, counties) in personas.items():
        rows = everything(client, path, token_for(user))
        codes = county_codes(path, rows)
        assert rows, f"{persona} sees nothing at {path}"
        if counties is None:
            assert {"07", "08"} <= codes, persona
        else:
            assert codes == counties, f"{persona} at {path}: {codes}"


def test_national_reader_sees_every_county(client, record, national):
    rows = everything(client, "counties", token_for(national))
    assert len(rows) == County.objects.count() == 21


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_and_outsiders_are_refused(client, record, outsider, path):
    anonymous = api(client, path)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"

    assert api(client, path, token="not-a-token").status_code == 401
    # An account without a reader's role gets no token and no session access either.
    client.force_login(outsider)
    assert api(client, path).status_code == 403


def test_another_countys_records_are_not_found(client, record, kalmar_leader, leader):
    kalmar_token = token_for(kalmar_leader)
    process = record["vaxjo"]
    decision = record["decision"]

    assert api(client, f"processes/{process.pk}", kalmar_token).status_code == 404
    assert api(client, f"decisions/{decision.pk}", kalmar_token).status_code == 404
    assert api(client, "municipalities/0780", kalmar_token).status_code == 404
    assert api(client, "counties/07", kalmar_token).status_code == 404
    leader_token = token_for(leader)
    assert api(client, f"processes/{process.pk}", leader_token).status_code == 200


def test_process_and_decision_show_stage_dates_and_responsible(client, record, leader):
    token = token_for(leader)
    process = api(client, f"processes/{record['vaxjo'].pk}", token).json()
    assert process["municipality"] == "0780"
    assert process["stage"] == "adopted"
    assert process["responsible"] == {"username": "pia", "name": "Pia Projektledare"}
    assert process["stage_entered_at"]

    decision = api(client, f"decisions/{record['decision'].pk}", token).json()
    assert decision["case_number"] == "KS 2026/39"
    assert decision["paragraph"] == "57"
    assert decision["outcome"] == "adopted"
    assert decision["appeal_deadline"]


def test_contact_names_in_the_audit_trail_only_for_those_who_may_see_them(
    client, record, steering, reference
):
    def summaries(user) -> str:
        return json.dumps(everything(client, "audit-events", token_for(user)), ensure_ascii=False)

    assert CONTACT_NAME in summaries(steering)
    reference_view = summaries(reference)
    assert CONTACT_NAME not in reference_view
    assert "vera@vaxjo.example" not in reference_view


def test_lists_are_paged_by_cursor(client, record, national):
    token = token_for(national)
    first = api(client, "municipalities", token, page_size=10).json()
    assert len(first["results"]) == 10
    assert "cursor=" in first["next"]


def test_revoked_token_stops_working_at_once(client, record, leader):
    token, key = services.create_api_token(user=leader, name="BI", actor=leader)
    assert api(client, "processes", key).status_code == 200

    services.revoke_api_token(token=token, actor=leader)

    assert api(client, "processes", key).status_code == 401


def test_tokens_are_stored_hashed_and_on_the_record(record, leader):
    token, key = services.create_api_token(user=leader, name="Regionens BI", actor=leader)
    services.revoke_api_token(token=token, actor=leader)

    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in {stored.key_hash, stored.prefix}
    assert stored.prefix == key[:8]
    summaries = list(
        AuditEvent.objects.filter(model_label="interfaces.apitoken").values_list(
            "summary", flat=True
        )
    )
    assert len(summaries) == 2
    assert "Regionens BI" in summaries[0] and "Regionens BI" in summaries[1]
    assert not any(key in s for s in summaries)


def test_schema_is_valid_openapi_3_and_lists_every_endpoint(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()

    validate(schema)
    for path in ENDPOINTS:
        assert f"/api/v1/{path}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


def test_docs_page_lists_the_operations_in_swedish(client):
    page = client.get("/api/docs/").content.decode()
    assert "API-dokumentation" in page
    assert "GET /api/v1/processes/" in page


def queries(client, token: str, path: str) -> int:
    client.get(f"/api/v1/{path}/", HTTP_AUTHORIZATION=f"Token {token}")
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/{path}/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    return len(captured)


def test_queries_stay_flat_with_more_records(record, leader, national):
    client = Client()
    token = token_for(national)
    small = {path: queries(client, token, path) for path in ENDPOINTS}
    for municipality in Municipality.objects.filter(county__code="07").exclude(code="0780"):
        contact = ContactFactory(municipality=municipality)
        process = workflow_services.start_process(municipality=municipality, user=leader)
        walk_to(process, leader, contact, "decision")
    large = {path: queries(client, token, path) for path in ENDPOINTS}

    assert small == large
