"""Browser fixtures: Debian's chromium driven by pytest-playwright against pytest-django's
live server, in Swedish, with axe-core's check, a logged-in browser and a county's work."""

import datetime
import os
from urllib.parse import urlsplit

import pytest

from municipalities.models import Municipality
from tests.factories import ContactFactory
from workflows import services
from workflows.flows import PolicyAdoptionFlow

from . import helpers

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
# from the test body. The test and the live server thread never share a connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": helpers.CHROMIUM,
        "args": helpers.CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A Swedish browser: Django's LocaleMiddleware picks Swedish from Accept-Language.
    return {
        **browser_context_args,
        "locale": "sv-SE",
        "timezone_id": "Europe/Stockholm",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def axe_check():
    return helpers.axe_check


@pytest.fixture
def login(live_server):
    """``login(page, user)``: the page's browser is then logged in as ``user``."""

    def log_in(page, user):
        helpers.login(page, live_server.url, user)

    return log_in


@pytest.fixture
def county_work(leader):
    """Three processes: Växjö with a meeting, a draft and a decision sent back (återremiss),
    Alvesta (one contact person registered) and Ljungby waiting for their first contact."""
    vaxjo = Municipality.objects.get(code="0780")
    contact = ContactFactory(municipality=vaxjo, name="Vera Växjö", title="Näringslivschef")
    process = services.start_process(municipality=vaxjo, user=leader)
    services.record_first_contact(
        task=helpers.open_task(process, PolicyAdoptionFlow.contact),
        user=leader,
        contacted_on=datetime.date(2026, 1, 12),
        channel="phone",
        contacts=[contact],
        approvers=[contact],
        notes="Kommunen är positiv till en policy.",
    )
    services.record_meeting(
        process=process,
        user=leader,
        held_on=datetime.date(2026, 2, 3),
        participants="Vera Växjö, Pia Projektledare",
        notes="Genomgång av Tillväxtverkets definition.",
    )
    services.complete_dialogue(
        task=helpers.open_task(process, PolicyAdoptionFlow.dialogue), user=leader
    )
    draft = services.write_draft(
        task=helpers.open_task(process, PolicyAdoptionFlow.draft),
        user=leader,
        competition_section="Reserverad upphandling enligt LOU 4 kap. 18 §.",
        customer_section="Kommunen köper arbetsträning av ASF.",
        change_note="Första versionen.",
    )
    services.request_approval(
        task=helpers.open_task(process, PolicyAdoptionFlow.request_approval),
        user=leader,
        approvers=[contact],
    )
    services.answer_approval(
        task=helpers.open_task(process, PolicyAdoptionFlow.approval),
        contact=contact,
        answer="approved",
    )
    services.record_decision(
        task=helpers.open_task(process, PolicyAdoptionFlow.decision),
        user=leader,
        body="kf",
        meeting_date=datetime.date(2026, 5, 4),
        paragraph="57",
        case_number="KS 2026/39",
        outcome="sent_back",
    )
    others = [
        services.start_process(municipality=Municipality.objects.get(code=code), user=leader)
        for code in ("0764", "0781")
    ]
    ContactFactory(municipality=others[0].municipality, name="Alva Alvesta")
    return {"vaxjo": process, "draft": draft, "alvesta": others[0]}


@pytest.fixture
def task_link(leader):
    """The path of a task link emailed to Tingsryd's contact, who is asked to approve a draft."""
    tingsryd = Municipality.objects.get(code="0763")
    contact = ContactFactory(municipality=tingsryd, name="Tore Tingsryd")
    process = services.start_process(municipality=tingsryd, user=leader)
    services.record_first_contact(
        task=helpers.open_task(process, PolicyAdoptionFlow.contact),
        user=leader,
        contacted_on=datetime.date(2026, 3, 2),
        channel="email",
        contacts=[contact],
        approvers=[contact],
    )
    services.record_meeting(
        process=process, user=leader, held_on=datetime.date(2026, 3, 20), participants="Tore"
    )
    services.complete_dialogue(
        task=helpers.open_task(process, PolicyAdoptionFlow.dialogue), user=leader
    )
    services.write_draft(
        task=helpers.open_task(process, PolicyAdoptionFlow.draft),
        user=leader,
        competition_section="Reserverad upphandling.",
        customer_section="Dialog före upphandling.",
    )
    (issued,) = services.request_approval(
        task=helpers.open_task(process, PolicyAdoptionFlow.request_approval),
        user=leader,
        approvers=[contact],
    )
    url = urlsplit(issued.url)
    return f"{url.path}?{url.query}"


@pytest.fixture
def leader_page(page, leader, login):
    login(page, leader)
    return page
