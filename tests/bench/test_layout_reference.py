"""The layout reference page (`bench.views.LayoutView`): the minimal page's content inside the
site's layout, measured uncached beside the minimal page, and the line under the report's table
that sets the pages' uncached ratios against it (`bench.report.layout_line`)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bench import report

pytestmark = pytest.mark.xdist_group("bench")


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]


@pytest.mark.django_db
def test_the_layout_reference_shows_the_minimal_content_inside_the_sites_menu(
    client, leader, bench_urls
):
    client.force_login(leader)

    page = client.get(reverse("bench_layout")).content.decode()

    # What every page has around it: the menu, the sign-out button and the footer, in Swedish.
    assert "Översikt" in page and "Uppgifter" in page
    assert "Logga ut Pia Projektledare" in page
    assert "Tillgänglighetsredogörelse" in page
    # And the minimal page's own content.
    assert "<h1>Referenssida för prestandamätning</h1>" in page
    assert "<p>pia</p>" in page


@pytest.mark.django_db
def test_the_layout_reference_asks_the_permission_the_pages_ask(client, bench_urls):
    outsider = get_user_model().objects.create_user("utan-roll", password="x")
    client.force_login(outsider)

    assert client.get(reverse("bench_layout")).status_code == 403


def figures(**values: float) -> dict:
    """Assessed figures as a results file holds them."""
    return {name: {"value": value} for name, value in values.items()}


def layout_line(**values: float) -> str | None:
    """The line under the report's table for a run that measured ``values``."""
    return report.layout_line(figures(**values))


def test_the_report_sets_the_pages_uncached_ratios_against_the_layouts():
    line = layout_line(
        layout_uncached_rps=512.3,
        layout_uncached_rps_vs_minimal=0.46,
        county_overview_uncached_rps_vs_minimal=0.08,
        inbox_uncached_rps_vs_minimal=0.15,
    )

    assert "answered 512.3 req/s uncached, 0.46× the minimal page" in line
    assert "(the HTML pages 0.08–0.15×, target 0.5×)" in line
    assert "no page can reach 0.5×" in line


def test_the_report_says_how_much_room_the_layout_leaves_a_page_under_the_target():
    line = layout_line(
        layout_uncached_rps=604.2,
        layout_uncached_rps_vs_minimal=0.55,
        process_uncached_rps_vs_minimal=0.10,
    )

    assert "a page at 0.5× could cost at most 1.10× the layout alone" in line


def test_a_download_is_not_set_against_the_layout_it_does_not_have():
    line = layout_line(
        layout_uncached_rps=638.1,
        layout_uncached_rps_vs_minimal=0.54,
        inbox_uncached_rps_vs_minimal=0.11,
        audit_csv_first_byte_uncached_rps_vs_minimal=0.17,
    )

    assert "(the HTML pages 0.11–0.11×" in line


def test_a_run_without_the_layout_reference_prints_no_layout_line():
    unmeasured = figures(inbox_uncached_rps_vs_minimal=0.15)
    unmeasured["layout_uncached_rps_vs_minimal"] = {"value": "not available: not served"}

    assert report.layout_line(unmeasured) is None
