"""The project leader's and the municipal contact's pages in a real, Swedish browser: axe-core
finds no WCAG 2.1 A/AA (or best-practice) problem, form errors are announced and lead to their
fields, pages reflow to 320 CSS px, and the keyboard reaches the content through the skip link."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.workflows.helpers import open_task

from .helpers import SCREENSHOTS, login_with_form

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_login_page_passes_axe_in_swedish_and_logs_the_leader_in(
    page, live_server, leader, axe_check
):
    page.goto(live_server.url + reverse("login"))

    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "Logga in"
    axe_check(page)
    login_with_form(page, live_server.url, leader)
    assert page.url == live_server.url + reverse("workflows:inbox")


def test_sign_in_lockout_page_passes_axe_in_swedish(page, live_server, leader, axe_check, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _attempt in range(2):
        page.goto(live_server.url + reverse("login"))
        page.fill("#id_username", leader.get_username())
        page.fill("#id_password", "fel-lösenord")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Inloggningen är spärrad"
    axe_check(page)


def test_bad_address_page_passes_axe_in_swedish(leader_page, live_server, axe_check):
    leader_page.goto(live_server.url + reverse("workflows:processes") + "?county=%00")

    assert leader_page.get_by_role("heading", level=1).inner_text() == (
        "Förfrågan gick inte att läsa"
    )
    axe_check(leader_page)


def test_inbox_with_open_steps_passes_axe(leader_page, live_server, county_work, axe_check):
    leader_page.goto(live_server.url + reverse("workflows:inbox"))

    assert leader_page.get_by_role("link", name="Alvesta").is_visible()
    axe_check(leader_page)
    leader_page.screenshot(path=SCREENSHOTS / "inbox.png", full_page=True)


def test_process_list_start_page_and_accessibility_statement_pass_axe(
    leader_page, live_server, county_work, axe_check
):
    for url_name in ("workflows:processes", "workflows:start", "accessibility"):
        leader_page.goto(live_server.url + reverse(url_name))

        assert leader_page.get_by_role("heading", level=1).is_visible()
        axe_check(leader_page)


def test_error_pages_pass_axe_in_swedish(leader_page, live_server, axe_check):
    leader_page.goto(live_server.url + "/finns-inte/")
    assert leader_page.get_by_role("heading", level=1).inner_text() == "Sidan finns inte"
    axe_check(leader_page)

    # A form whose CSRF cookie is gone (an expired session, blocked cookies).
    leader_page.goto(live_server.url + reverse("workflows:start"))
    leader_page.context.clear_cookies(name="csrftoken")
    leader_page.get_by_role("combobox", name="Kommun", exact=False).select_option(label="Växjö")
    leader_page.get_by_role("button", name="Starta", exact=True).click()
    assert leader_page.get_by_role("heading", level=1).inner_text() == (
        "Formuläret kunde inte skickas"
    )
    axe_check(leader_page)


def test_process_page_with_draft_meeting_and_decision_passes_axe(
    leader_page, live_server, county_work, axe_check
):
    process = county_work["vaxjo"]
    leader_page.goto(live_server.url + reverse("workflows:process", args=[process.pk]))

    main = leader_page.locator("main")
    # The records fold away under the summary card: all are on the page, some closed.
    for shown in ("Vera Växjö, Pia Projektledare", "KS 2026/39", str(county_work["draft"])):
        assert shown in main.text_content()
    expect(main.locator("[aria-current=step]")).to_have_text("Dialog med kommunen (nu)")
    axe_check(leader_page)
    leader_page.screenshot(path=SCREENSHOTS / "process.png", full_page=True)
    # Every panel opened passes too.
    main.evaluate("m => m.querySelectorAll('details').forEach(d => { d.open = true; })")
    axe_check(leader_page)


def test_draft_page_passes_axe(leader_page, live_server, county_work, axe_check):
    draft = county_work["draft"]
    leader_page.goto(
        live_server.url + reverse("workflows:draft", args=[draft.process_id, draft.version])
    )

    assert "Reserverad upphandling" in leader_page.locator("main").inner_text()
    axe_check(leader_page)


def test_step_form_showing_errors_passes_axe(leader_page, live_server, county_work, axe_check):
    task = open_task(county_work["alvesta"], "contact")
    leader_page.goto(live_server.url + reverse("workflows:step", args=[task.pk]))
    # Submit empty, past the browser's own checks, to see the server's messages.
    leader_page.locator("main form").evaluate("form => { form.noValidate = true; }")
    with leader_page.expect_navigation():
        leader_page.locator("main form button[type=submit]").click()

    # The error summary takes the focus, so a screen reader starts with what went wrong.
    summary = leader_page.locator(":focus")
    assert summary.get_attribute("role") == "alert"
    with translation.override("sv"):
        assert leader_page.title().startswith(gettext("Error") + ": ")
    # The date comes filled in with today: contacts and approvers are missing.
    assert summary.get_by_role("link").count() == 2
    # Each message's link in the summary goes to its field.
    summary.get_by_role("link").nth(0).click()
    assert leader_page.url.endswith("#id_contacts_0")
    expect(leader_page.locator("#id_contacts_0")).to_be_in_viewport()
    axe_check(leader_page)


def test_contact_answer_page_behind_task_link_passes_axe(page, live_server, task_link, axe_check):
    page.goto(live_server.url + task_link)

    assert page.get_by_role("radio").count() == 2
    axe_check(page)


def test_refusal_page_that_gives_back_the_typed_comment_and_the_receipt_pass_axe(
    page, live_server, task_link, leader, axe_check
):
    from workflows import task_links
    from workflows.models import TaskLink

    page.goto(live_server.url + task_link)
    page.get_by_label("Ändringar begärda").check()
    page.get_by_label("Kommentar", exact=True).fill("Lägg till ett avsnitt om IOP.")
    # Meanwhile the project leader replaces the link.
    link = TaskLink.objects.get(used_at__isnull=True, revoked_at__isnull=True)
    task_links.revoke_link(link=link, user=leader, reason="Fel mottagare")
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Din kommentar har inte sparats")
    expect(page.get_by_role("textbox", name="Din kommentar")).to_have_value(
        "Lägg till ett avsnitt om IOP."
    )
    axe_check(page)


def test_thank_you_page_after_an_answer_passes_axe_and_survives_a_reload(
    page, live_server, task_link, axe_check
):
    page.goto(live_server.url + task_link)
    page.get_by_label("Godkänt").check()
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack, vi har fått ditt svar")
    page.reload()  # a GET: nothing is sent again
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack, vi har fått ditt svar")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack, vi har fått ditt svar")
    axe_check(page)


def test_inbox_and_process_page_reflow_to_320_css_pixels_without_sideways_scrolling(
    leader_page, live_server, county_work
):
    leader_page.set_viewport_size({"width": 320, "height": 640})
    for url in (
        reverse("workflows:inbox"),
        reverse("workflows:process", args=[county_work["vaxjo"].pk]),
    ):
        leader_page.goto(live_server.url + url)

        # WCAG 1.4.10: only the wide tables scroll, inside their own keyboard-focusable region.
        assert leader_page.evaluate("document.documentElement.scrollWidth") <= 320, url
        for region in leader_page.locator(".table-scroll").all():
            assert region.get_attribute("tabindex") == "0"
            assert region.get_attribute("role") == "region"


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, live_server):
    page.goto(live_server.url + reverse("accessibility"))

    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.get_attribute("class") == "skip-link"
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_county_overview_and_every_county_at_once_pass_axe(
    leader_page, live_server, county_work, axe_check, leader
):
    from municipalities.services import set_national_reader

    # Every county at once is for a reader of every county (or of several): Pia reads them all.
    set_national_reader(user=leader)
    overview = live_server.url + reverse("workflows:overview")
    leader_page.goto(overview)
    assert leader_page.get_by_role("link", name="Alvesta").is_visible()
    axe_check(leader_page)

    leader_page.goto(overview + "?county=all")
    counties = leader_page.get_by_role("region", name=re.compile("Hur många kommuner i varje län"))
    assert counties.get_by_role("row").count() == 1 + 21
    axe_check(leader_page)
    counties.get_by_role("link", name="Kronobergs län").click()
    assert leader_page.get_by_role("link", name="Alvesta").is_visible()


@pytest.fixture
def decided_long_ago(leader):
    """Älmhult's policy, adopted three months ago: its appeal period is over, legal force not
    yet recorded."""
    import datetime

    import time_machine
    from django.utils import timezone

    from municipalities.models import Municipality
    from tests.factories import ContactFactory
    from tests.workflows.helpers import decision_fields, walk_to
    from workflows import services

    almhult = Municipality.objects.get(code="0765")
    contact = ContactFactory(municipality=almhult, name="Ällen Älmhult")
    then = timezone.now() - datetime.timedelta(days=90)
    with time_machine.travel(then, tick=False):
        process = services.start_process(municipality=almhult, user=leader)
        task = walk_to(process, leader, contact, "decision")
        services.record_decision(task=task, user=leader, **decision_fields("adopted"))
    return process


def test_decision_with_legal_force_to_record_and_its_correction_page_pass_axe(
    leader_page, live_server, decided_long_ago, axe_check
):
    process = decided_long_ago
    leader_page.goto(live_server.url + reverse("workflows:process", args=[process.pk]))
    main = leader_page.locator("main")
    assert "Överklagandetiden gick ut" in main.inner_text()
    expect(leader_page.get_by_label("Laga kraft från")).to_be_visible()
    axe_check(leader_page)

    decision = process.decisions.get()
    leader_page.goto(
        live_server.url + reverse("workflows:correct_decision", args=[process.pk, decision.pk])
    )
    assert "KS 2026/39" in leader_page.locator("main").inner_html()
    axe_check(leader_page)
