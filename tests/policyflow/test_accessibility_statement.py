"""The accessibility statement (tillgänglighetsredogörelse) has the parts DIGG requires, in
Swedish, and the project has one contact address, the same on every page."""

import html5lib
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

ADDRESS = "tillganglighet@kronoberg.example"


@pytest.fixture
def contact_address(settings):
    settings.POLICYFLOW = {**settings.POLICYFLOW, "SUPPORT_EMAIL": ADDRESS}
    return ADDRESS


def sections(page: str) -> dict[str, str]:
    """Each h2's text, mapped to the text of its section."""
    document = html5lib.parse(page, namespaceHTMLElements=False)
    found = {}
    for section in document.find(".//main").iter("section"):
        heading = section.find("h2")
        found[" ".join("".join(heading.itertext()).split())] = " ".join(
            "".join(section.itertext()).split()
        )
    return found


def test_the_statement_has_every_part_digg_requires_in_swedish(client, contact_address):
    response = client.get(reverse("accessibility"))
    page = response.content.decode()
    parts = sections(page)

    assert '<html lang="sv">' in page
    # The compliance status: fully, partly or not compliant.
    status = parts["Hur tillgänglig är tjänsten?"]
    assert "PolicyFlow är delvis förenlig med lagen om tillgänglighet till digital" in status
    # The content that is not accessible, and why.
    technical = parts["Teknisk information om tjänstens tillgänglighet"]
    assert "Innehåll som inte är tillgängligt" in technical
    assert "Administrationssidorna" in technical and "har inte granskats" in technical
    assert "Innehåll som inte omfattas av lagen" in technical
    # How to ask for content in another form, and how to report a problem: the one address.
    assert "i en annan form" in parts["Vad kan du göra om du inte kan använda delar av tjänsten?"]
    assert ADDRESS in parts["Vad kan du göra om du inte kan använda delar av tjänsten?"]
    assert ADDRESS in parts["Rapportera brister i tjänstens tillgänglighet"]
    assert f'href="mailto:{ADDRESS}"' in page
    # The enforcement procedure: a complaint to DIGG.
    enforcement = parts["Tillsyn"]
    assert "Myndigheten för digital förvaltning (DIGG)" in enforcement
    assert 'href="https://www.digg.se/tdosanmalan"' in page
    # When it was prepared and last reviewed.
    assert (
        "Redogörelsen upprättades den 25 november 2026 och granskades senast den 6 december 2026."
        in parts["Hur vi har testat tjänsten"]
    )


def test_every_page_shows_the_one_contact_address_of_the_setting(db, contact_address):
    pages = {
        "login": Client().get(reverse("login")),
        "accessibility statement": Client().get(reverse("accessibility")),
        "broken task link": Client().get(reverse("workflows:link_open"), {"t": "unknown"}),
    }
    with translation.override("sv"):
        pages["server error"] = server_error(RequestFactory().get("/"))

    for name, response in pages.items():
        page = response.content.decode()
        assert f'<a href="mailto:{ADDRESS}">{ADDRESS}</a>' in page, name
        assert "regionkronoberg.se" not in page, name
