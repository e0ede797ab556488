"""Browser fixtures: Debian's chromium driven by pytest-playwright against pytest-django's
live server, in Swedish, with axe-core's check, a logged-in browser, a county's work, and email
delivered by a real Celery worker to a real SMTP server."""

import datetime
import os
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from municipalities.models import Municipality
from tests.factories import ContactFactory
from tests.support.smtp import smtp_sink  # noqa: F401  (a fixture)
from tests.support.workers import (  # noqa: F401  (worker_processes is a fixture)
    celery_app_with_own_queue,
    worker_processes,
)
from tests.workflows.helpers import open_task
from workflows import services

from . import helpers

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
# from the test body. The test and the live server thread never share a connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Playwright waits on conditions (a page loaded, a text shown), but gives up after 30 s (5 s for
# `expect`): on a loaded machine a page can take longer without anything being wrong. These are
# upper bounds, reached only when the condition never comes.
BROWSER_TIMEOUT_MS = 120_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)


@pytest.fixture
def context(context):
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context


@pytest.fixture
def new_context(new_context):
    def make(**kwargs):
        created = new_context(**kwargs)
        created.set_default_timeout(BROWSER_TIMEOUT_MS)
        return created

    return make


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": helpers.CHROMIUM,
        "args": helpers.CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A Swedish browser (the pages are Swedish whatever the browser's language: see
    # tests/policyflow/test_language.py).
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
def mail_delivery(transactional_db, settings, live_server, smtp_sink, worker_processes):  # noqa: F811
    """The SMTP server's inbox (``smtp_sink``) for email sent the way production sends it: the
    live server stores notifications in the outbox and queues them, on this test's own queue, to
    a `celery worker` process, which delivers them over SMTP. Links in them lead to the live
    server."""
    settings.SITE_URL = live_server.url
    with celery_app_with_own_queue() as app:
        worker_processes(
            broker_url=settings.CELERY_BROKER_URL, queue=app.test_queue, smtp_port=smtp_sink.port
        )
        yield smtp_sink


@pytest.fixture
def county_work(leader):
    """Three processes: Växjö with a meeting, a draft and a decision sent back (återremiss),
    Alvesta (one contact person registered) and Ljungby waiting for their first contact."""
    vaxjo = Municipality.objects.get(code="0780")
    contact = ContactFactory(municipality=vaxjo, name="Vera Växjö", title="Näringslivschef")
    process = services.start_process(municipality=vaxjo, user=leader)
    services.record_first_contact(
        task=open_task(process, "contact"),
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
    services.complete_dialogue(task=open_task(process, "dialogue"), user=leader)
    draft = services.write_draft(
        task=open_task(process, "draft"),
        user=leader,
        competition_section="Reserverad upphandling enligt LOU 4 kap. 18 §.",
        customer_section="Kommunen köper arbetsträning av ASF.",
        change_note="Första versionen.",
    )
    services.request_approval(
        task=open_task(process, "request_approval"),
        user=leader,
        approvers=[contact],
    )
    services.answer_approval(
        task=open_task(process, "approval"),
        contact=contact,
        answer="approved",
    )
    services.record_decision(
        task=open_task(process, "decision"),
        user=leader,
        body="kf",
        meeting_date=timezone.localdate(),
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
        task=open_task(process, "contact"),
        user=leader,
        contacted_on=datetime.date(2026, 3, 2),
        channel="email",
        contacts=[contact],
        approvers=[contact],
    )
    services.record_meeting(
        process=process, user=leader, held_on=datetime.date(2026, 3, 20), participants="Tore"
    )
    services.complete_dialogue(task=open_task(process, "dialogue"), user=leader)
    services.write_draft(
        task=open_task(process, "draft"),
        user=leader,
        competition_section="Reserverad upphandling.",
        customer_section="Dialog före upphandling.",
    )
    (issued,) = services.request_approval(
        task=open_task(process, "request_approval"),
        user=leader,
        approvers=[contact],
    )
    url = urlsplit(issued.url)
    return f"{url.path}?{url.query}"


@pytest.fixture
def leader_page(page, leader, login):
    login(page, leader)
    return page
