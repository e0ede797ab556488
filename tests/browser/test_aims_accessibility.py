"""The pages of knowledge spreading, the collaboration organisation and the follow-up in a real,
Swedish browser: axe-core finds no WCAG 2.1 A/AA problem, the activity form's errors are
announced at the top, and the pages reflow to 320 CSS px."""

import datetime

import pytest
from django.urls import reverse

from municipalities.models import County, Municipality
from network import services as network
from outreach import services as outreach
from outreach.services import Reached
from tests.factories import EnterpriseFactory

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def aims(leader):
    kronoberg = County.objects.get(code="07")
    vaxjo = Municipality.objects.get(code="0780")
    enterprise = EnterpriseFactory(name="Återbruket", municipalities=[vaxjo])
    activity = outreach.record_activity(
        user=leader,
        county=kronoberg,
        kind="seminar",
        title="Frukostseminarium om ASF",
        held_on=datetime.date(2026, 10, 14),
        organiser="Region Kronoberg",
        municipalities=[vaxjo],
        enterprises=[enterprise],
        audience={"municipality": Reached(12, 7, 5), "asf": Reached(3)},
    )
    organisation = network.form_organisation(user=leader, county=kronoberg, name="Samverkan")
    network.add_member(
        user=leader,
        organisation=organisation,
        enterprise=enterprise,
        joined_on=datetime.date(2026, 3, 1),
    )
    meeting = network.record_meeting(
        user=leader,
        organisation=organisation,
        held_on=datetime.date(2026, 10, 1),
        agenda="Stadgar",
        decisions="Stadgarna antogs.",
        attendees=[enterprise],
    )
    network.record_milestone(
        user=leader,
        organisation=organisation,
        kind="statutes_adopted",
        reached_on=datetime.date(2026, 10, 1),
    )
    return {"activity": activity, "meeting": meeting}


def urls(aims) -> list[str]:
    return [
        reverse("outreach:activities"),
        reverse("outreach:activity", args=[aims["activity"].pk]),
        reverse("outreach:activity_edit", args=[aims["activity"].pk]),
        reverse("network:organisation"),
        reverse("network:meeting", args=[aims["meeting"].pk]),
        reverse("network:add_meeting", args=["07"]),
        reverse("followup:page") + "?period=2026Q4",
    ]


def test_the_aims_pages_pass_axe(leader_page, live_server, aims, axe_check):
    for url in urls(aims):
        leader_page.goto(live_server.url + url)
        assert leader_page.get_by_role("heading", level=1).is_visible(), url
        axe_check(leader_page)


def test_the_activity_form_announces_its_errors_and_passes_axe(
    leader_page, live_server, aims, axe_check
):
    leader_page.goto(live_server.url + reverse("outreach:activity_create"))
    leader_page.get_by_label("Rubrik").fill("Studiebesök")
    leader_page.get_by_label("Datum").fill("2026-11-02")
    leader_page.get_by_label("Arrangör").fill("Region Kronoberg")
    leader_page.get_by_label("Kommun: Kvinnor").fill("3")  # and no total
    leader_page.get_by_role("button", name="Spara aktiviteten").click()
    summary = leader_page.get_by_role("alert")
    assert "Kontrollera antalen personer som nåtts." in summary.inner_text()
    assert leader_page.title().startswith("Fel:")
    axe_check(leader_page)


def test_the_aims_pages_reflow_to_320_css_pixels(leader_page, live_server, aims):
    leader_page.set_viewport_size({"width": 320, "height": 640})
    for url in urls(aims):
        leader_page.goto(live_server.url + url)
        assert leader_page.evaluate("document.documentElement.scrollWidth") <= 320, url
