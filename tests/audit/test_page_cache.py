"""The timeline is served from the page cache while nothing is written, and shows a new event on
the next request (audit.page_cache)."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import services
from audit.models import Kind

pytestmark = pytest.mark.django_db

TIMELINE = reverse("audit:timeline")


def event(summary: str, *, municipality=None) -> int:
    place = {}
    if municipality is not None:
        place = {
            "municipality_id": municipality.pk,
            "municipality_name": municipality.name,
            "county_code": municipality.county.code,
        }
    return services.append_event(
        kind=Kind.PROCESS_CHANGED, summary=summary, model_label="tests.example", **place
    ).id


def vaxjo():
    from municipalities.models import Municipality

    return Municipality.objects.select_related("county").get(code="0780")


def get(client, url: str) -> tuple[str, int]:
    """The page's events and the number of queries it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    return page.split('id="events-heading"')[1].split("</section>")[0], len(captured)


def test_a_repeated_timeline_request_is_served_from_the_cache_with_fewer_queries(
    steering_client, seeded
):
    for number in range(3):
        event(f"Event {number}")
    first, fresh = get(steering_client, TIMELINE)
    second, cached = get(steering_client, TIMELINE)

    assert second == first and "Event 2" in second
    assert cached < fresh


@pytest.fixture
def steering_client(steering_client):
    """A browser that has visited once: it holds its CSRF cookie, so pages are cached for it."""
    steering_client.get(reverse("workflows:overview"))
    return steering_client


def test_a_new_event_shows_at_once(steering_client, seeded):
    event("Before")
    page, fresh = get(steering_client, TIMELINE)
    again, cached = get(steering_client, TIMELINE)
    assert again == page and "After" not in page and cached < fresh  # served from the cache

    event("After")

    assert "After" in get(steering_client, TIMELINE)[0]


def test_each_keyset_page_is_its_own(steering_client, seeded):
    ids = [event(f"Event {number}") for number in range(60)]
    first = get(steering_client, TIMELINE)[0]
    older, fresh = get(steering_client, f"{TIMELINE}?after={ids[10]}")
    again, cached = get(steering_client, f"{TIMELINE}?after={ids[10]}")
    assert again == older and cached < fresh  # each one cached on its own

    assert "Event 59" in first and "Event 59" not in older
    assert re.search(r"Event 9\b", older)


def test_a_new_verification_of_the_chain_shows_at_once_on_the_timeline_and_the_board(
    steering_client, seeded
):
    event("Before the check")
    for url in (TIMELINE, reverse("workflows:overview")):
        assert "has not been verified yet" in steering_client.get(url).content.decode()

    call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())

    for url in (TIMELINE, reverse("workflows:overview")):
        page = steering_client.get(url).content.decode()
        assert "Last verified" in page and "has not been verified yet" not in page


def test_a_new_checkpoint_shows_at_once_on_the_timeline(steering_client, seeded):
    from audit.checkpoints import take_checkpoint

    event("Before the checkpoint", municipality=vaxjo())
    steering_client.get(TIMELINE)
    assert "Latest checkpoint" not in steering_client.get(TIMELINE).content.decode()

    take_checkpoint()

    assert "Latest checkpoint: no. 1," in steering_client.get(TIMELINE).content.decode()


def test_an_event_in_another_county_leaves_the_readers_timeline_in_the_cache(
    steering_client, seeded
):
    from municipalities.models import Municipality

    event("In Växjö", municipality=vaxjo())
    first, fresh = get(steering_client, TIMELINE)
    _again, cached = get(steering_client, TIMELINE)

    # Malmö is in Skåne: nothing the steering group of Kronoberg reads.
    event("In Malmö", municipality=Municipality.objects.select_related("county").get(code="1280"))
    after_malmo, queries = get(steering_client, TIMELINE)
    event("Again in Växjö", municipality=vaxjo())
    after_vaxjo = get(steering_client, TIMELINE)[0]

    assert after_malmo == first and queries == cached < fresh
    assert "Again in Växjö" in after_vaxjo and "In Malmö" not in after_vaxjo


def test_after_the_upgrade_that_named_the_heads_counties_another_countys_event_is_left_out(
    steering_client, seeded
):
    """A trail written before chain heads named their county (migration 0007 fills them in)."""
    from importlib import import_module

    from django.apps import apps
    from django.db import connection as db

    from audit.models import ChainHead
    from municipalities.models import Municipality

    malmo = Municipality.objects.select_related("county").get(code="1280")
    event("In Växjö", municipality=vaxjo())
    event("In Malmö", municipality=malmo)
    ChainHead.objects.update(county_code="")  # as the heads were before the upgrade
    with db.schema_editor() as editor:
        import_module("audit.migrations.0007_chain_head_county").fill_county_codes(apps, editor)

    first, fresh = get(steering_client, TIMELINE)
    _again, cached = get(steering_client, TIMELINE)
    event("Again in Malmö", municipality=malmo)

    assert get(steering_client, TIMELINE) == (first, cached)
    assert cached < fresh


def download(client, url: str) -> tuple[bytes, int]:
    """The CSV as the browser saves it, and the number of queries its request ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return body, len(captured)


def test_a_repeated_csv_download_is_the_same_file_from_the_cache_until_an_event_is_added(
    steering_client, seeded
):
    # A municipality's trail, streamed in the request (the whole trail is an export job).
    place = vaxjo()
    event("First", municipality=place)
    url = reverse("audit:municipality_csv", args=[place.pk])
    first, streamed = download(steering_client, url)

    again, cached = download(steering_client, url)
    event("Second", municipality=place)
    after, _queries = download(steering_client, url)

    assert again == first and b"First" in first
    # Session, user, own and group permissions, the reader's counties (the access check), the
    # municipality (the title's scope check), data version.
    assert cached == 7 < streamed
    assert b"Second" in after and b"Second" not in first


def test_a_download_larger_than_the_limit_streams_every_time(steering_client, seeded, settings):
    place = vaxjo()
    for number in range(5):
        event(f"Event {number}", municipality=place)
    settings.PAGE_CACHE_MAX_DOWNLOAD_CHARS = 500
    url = reverse("audit:municipality_csv", args=[place.pk])
    first, streamed = download(steering_client, url)

    again, queries = download(steering_client, url)

    assert len(first) > 500
    assert again == first and queries == streamed
