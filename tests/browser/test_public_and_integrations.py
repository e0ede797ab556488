"""The public progress page for an anonymous Swedish reader, and the integrations and API
documentation pages for a signed-in leader, in a real browser: axe-core finds no WCAG 2.1 A/AA
(or best-practice) problem, and the pages reflow to 320 CSS px."""

import pytest
from django.urls import reverse

from interfaces import services

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_public_county_and_municipality_pages_pass_axe_in_swedish(
    page, live_server, county_work, axe_check
):
    page.goto(live_server.url + "/offentlig/kronoberg/")

    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "ASF-policyer i Kronobergs län"
    axe_check(page)
    page.get_by_role("link", name="In English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "ASF policies in Kronobergs län"
    axe_check(page)

    page.goto(live_server.url + "/offentlig/kronoberg/vaxjo/")
    assert page.get_by_role("heading", level=1).inner_text() == "ASF-policy i Växjö"
    axe_check(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth <= 320")
    page.goto(live_server.url + "/offentlig/")
    axe_check(page)


def test_integrations_and_api_docs_pages_pass_axe(leader_page, live_server, leader, axe_check):
    services.issue_calendar_feed(user=leader)
    leader_page.goto(live_server.url + reverse("interfaces:integrations"))
    leader_page.get_by_label("Vad ska använda token?").fill("Regionens BI")
    leader_page.get_by_role("button", name="Skapa token").click()

    assert leader_page.get_by_role("heading", name="Ditt nya token ”Regionens BI”").is_visible()
    axe_check(leader_page)

    leader_page.goto(live_server.url + reverse("api:docs"))
    assert leader_page.get_by_role("heading", level=1).inner_text() == "API-dokumentation"
    axe_check(leader_page)
