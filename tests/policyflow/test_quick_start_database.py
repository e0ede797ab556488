"""`make run` serves PolicyFlow from the embedded SQLite database: every main page works there
too, not only on PostgreSQL (where the rest of the suite runs)."""

import json

import pytest

# The seeded SQLite database is built once per worker for the tests of this group.
pytestmark = pytest.mark.xdist_group("sqlite")

# Runs inside `manage.py shell` against the SQLite database: a process with some history, then
# each main page as the project leader and as the steering group.
PAGES_SCRIPT = """
import datetime, json
from django.test import Client
from django.contrib.auth import get_user_model
from enterprises.models import Enterprise
from municipalities.models import Municipality
from workflows import services
from workflows.flows import PolicyAdoptionFlow
from viewflow.workflow.models import Task

leader = get_user_model().objects.get(username="projektledare")
vaxjo = Municipality.objects.get(code="0780")
process = services.start_process(municipality=vaxjo, user=leader)
contact = vaxjo.contacts.first()
task = Task.objects.get(process_id=process.pk, flow_task=PolicyAdoptionFlow.contact)
services.record_first_contact(
    task=task, user=leader, contacted_on=datetime.date(2026, 1, 12), channel="phone",
    contacts=[contact], approvers=[contact], notes="",
)
services.start_processes_for_county(county=vaxjo.county, user=leader)
pages = [
    "/overview/", "/overview/?county=all", "/overview/municipalities/0780/", "/tasks/",
    "/processes/", f"/processes/{process.pk}/", "/audit/", f"/audit/processes/{process.pk}/",
    "/exports/new/audit_csv/", "/overview/report.pdf", "/notifications/",
    # The ASF register, with the demo enterprises `seed_kronoberg --demo` adds.
    "/asf/", "/asf/?municipality=0780&status=active&q=a", "/asf/export.csv",
    "/asf/%d/" % Enterprise.objects.order_by("pk").first().pk,
]
statuses = {}
for username in ("projektledare", "styrgrupp"):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    for page in pages:
        response = client.get(page)
        if response.streaming:
            b"".join(response.streaming_content)
        statuses[f"{username} {page}"] = response.status_code
print("STATUSES" + json.dumps(statuses))
"""


def test_every_main_page_works_on_the_quick_start_sqlite_database(quick_start):
    # A copy of the database `make run` migrates and seeds (`seed_kronoberg --demo`), in make
    # run's environment (tests/support/sqlite_site.py: built once per worker for the group).
    output = quick_start.manage("shell", "-c", PAGES_SCRIPT).stdout

    statuses = json.loads(output.split("STATUSES", 1)[1])
    assert len(statuses) == 30
    # The delivery log is the project leaders' alone; every other page answers both roles,
    # but "all counties", which neither of Kronoberg's demo users has (one county each).
    assert statuses.pop("styrgrupp /notifications/") == 403
    assert statuses.pop("styrgrupp /overview/?county=all") == 404
    assert statuses.pop("projektledare /overview/?county=all") == 404
    assert {page: status for page, status in statuses.items() if status != 200} == {}
