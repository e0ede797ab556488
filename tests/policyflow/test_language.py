"""Swedish by default whatever language the browser asks for; English only through the visible
switch, which the browser then remembers (the language cookie)."""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.workflows.helpers import open_task, valid_step_data, walk_to_approval
from workflows import services, task_links

# What an English-speaking browser (and most browsers on municipal desktops) sends.
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def english_browser(**kwargs) -> Client:
    return Client(**ENGLISH_BROWSER, **kwargs)


def test_an_english_browser_is_shown_swedish_until_the_switch_is_used():
    browser = english_browser()

    page = browser.get(reverse("login"))
    assert '<html lang="sv">' in page.content.decode()
    assert "Logga in" in page.content.decode()
    assert page["Content-Language"] == "sv"
    assert "Accept-Language" not in page.get("Vary", "")

    switched = browser.post(
        reverse("set_language"), {"language": "en", "next": reverse("accessibility")}, follow=True
    )
    assert '<html lang="en">' in switched.content.decode()
    assert "Accessibility statement" in switched.content.decode()
    # Remembered: the next page, in a later visit, is English too.
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log in" in browser.get(reverse("login")).content.decode()

    browser.post(reverse("set_language"), {"language": "sv", "next": reverse("login")})
    assert "Logga in" in browser.get(reverse("login")).content.decode()


def test_a_swedish_browser_chooses_english_with_the_switch_alone():
    browser = Client(HTTP_ACCEPT_LANGUAGE="sv-SE,sv;q=0.9")
    assert "Logga in" in browser.get(reverse("login")).content.decode()
    browser.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert "Log in" in browser.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_a_project_leaders_pages_are_swedish_in_an_english_browser(leader, vaxjo):
    process = services.start_process(municipality=vaxjo, user=leader)
    browser = english_browser()
    browser.force_login(leader)

    page = browser.get(reverse("workflows:process", args=[process.pk])).content.decode()

    assert "Registrera första kontakt" in page
    assert "Record first contact" not in page


def test_a_broken_task_link_opened_in_an_english_browser_says_so_in_swedish(db):
    response = english_browser().get(reverse("workflows:link_open"), {"t": "not-a-real-token"})

    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="sv">' in page
    assert "Länken kan inte användas" in page


@pytest.mark.django_db
def test_a_contacts_task_link_opened_in_an_english_browser_is_in_the_contacts_language(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to_approval(process, leader, vaxjo_contact)
    issued = task_links.reissue_link(process=process, contact=vaxjo_contact, user=leader)
    browser = english_browser()

    browser.get(reverse("workflows:link_open"), {"t": issued.url.split("?t=", 1)[1]})
    page = browser.get(reverse("workflows:link_answer")).content.decode()

    assert '<html lang="sv">' in page
    assert "Skicka svar" in page


def english_speaking(user) -> Client:
    """``user``'s browser after they chose English with the visible switch."""
    browser = english_browser()
    browser.force_login(user)
    browser.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert "Log in" in browser.get(reverse("login")).content.decode()
    return browser


@pytest.mark.django_db
def test_steps_a_leader_completes_in_english_are_recorded_with_swedish_reasons(
    leader, steering, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    browser = english_speaking(leader)
    for step in ("contact", "dialogue", "draft"):
        if step == "dialogue":  # the dialogue is completed after a meeting
            services.record_meeting(
                process=process, user=leader, held_on=datetime.date(2026, 2, 3), participants="V"
            )
        task = open_task(process, step)
        response = browser.post(
            reverse("workflows:step", args=[task.pk]), valid_step_data(step, vaxjo_contact)
        )
        assert response.status_code == 302, response.content.decode()[:2000]

    reader = Client()
    reader.force_login(steering)
    timeline = reader.get(reverse("audit:process", args=[process.pk])).content.decode()
    # The "Why" column: each event row's last cell.
    reasons = set(re.findall(r"<td>([^<]*)</td>\s*</tr>", timeline))

    assert {
        "Första kontakten registrerad",
        "Dialogen är klar, utkast kan skrivas",
        "Utkast version 1 skrivet",
    } <= reasons
    for english in ("First contact recorded", "Dialogue completed", "Draft version 1 written"):
        assert english not in timeline


def test_the_menu_links_follow_the_address_the_site_is_served_under(leader_client):
    """The layout's links are worked out once per process, for each sub-path the site may be
    served under (a proxy's SCRIPT_NAME): under /policyflow every link starts there; the next
    request at the root gets the root's links again."""
    from django.test.utils import override_script_prefix

    inbox = reverse("workflows:inbox")
    with override_script_prefix("/policyflow/"):  # as the WSGI handler sets it per request
        under = leader_client.get(inbox).content.decode()
    at_root = leader_client.get(inbox).content.decode()

    assert 'href="/policyflow/overview/"' in under
    assert 'action="/policyflow/accounts/logout/"' in under
    assert 'href="/overview/"' in at_root and 'action="/accounts/logout/"' in at_root
    assert 'href="/policyflow/overview/"' not in at_root
