"""Timeline pages run the same number of queries for 8 and for 290 municipalities with events."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import services
from audit.models import Kind
from municipalities.models import Municipality

pytestmark = pytest.mark.django_db


def events_for(municipalities, per_municipality=3):
    for municipality in municipalities:
        for number in range(per_municipality):
            services.append_event(
                kind=Kind.RECORD_CHANGED,
                summary=f"Event {number} of {municipality.name}",
                # A change naming a related row: the page shows the county's name, looked up
                # once for the page, not once per event.
                model_label="municipalities.municipality",
                changes={"county": [None, municipality.county_id]},
                process_id=municipality.pk,
                municipality_id=municipality.pk,
                municipality_name=municipality.name,
                county_code=municipality.county.code,
                stage="dialogue",
            )


def queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


PAGES = [
    ("audit:timeline", None, {}),
    ("audit:timeline", None, {"county": "07", "kind": "record_changed"}),
    ("audit:timeline", None, {"since": "2020-01-01", "until": "2099-12-31"}),
    ("audit:municipality", "first", {}),
    ("audit:process", "first", {}),
]


def measure(client, first):
    counts = []
    for name, arg, params in PAGES:
        url = reverse(name, args=[first.pk] if arg else [])
        counts.append(queries(client, url, params))
    return counts


def test_timeline_query_counts_do_not_grow_with_the_municipalities(steering_client, seeded):
    everywhere = list(Municipality.objects.select_related("county").order_by("code"))
    kronoberg = [m for m in everywhere if m.county.code == "07"]
    assert len(kronoberg) == 8 and len(everywhere) == 290

    events_for(kronoberg)
    first = kronoberg[0]
    # A browser holds the CSRF cookie from its first page on (pages are kept in the cache, at
    # the price of the data version's query, only for a browser that has one).
    steering_client.get(reverse("audit:timeline"))
    small = measure(steering_client, first)

    events_for([m for m in everywhere if m.county.code != "07"])
    # The other counties' events leave this Kronoberg reader's pages in the cache: rendered
    # afresh, as after an event of their own.
    cache.clear()
    large = measure(steering_client, first)

    assert small == large
    # 12, + the reader's county roles, + the names of the county projects and users that the
    # membership events on the page point at (one query for the names of every model, whatever
    # the events; 17 with one query per model), + the groups' permissions (Django's
    # ModelBackend reads the user's and the groups' apart).
    assert max(large) <= 15
    # The page names the county of each change (Kronobergs län), not its id.
    page = steering_client.get(reverse("audit:municipality", args=[first.pk])).content.decode()
    assert "<dt>County</dt><dd>– → Kronobergs län</dd>" in page


def test_the_trail_queries_the_same_for_a_reader_of_one_county_and_of_all_21(
    steering_client, steering, seeded
):
    """The filter's municipalities, the actors and the events are each one query, however many
    counties the reader reads (a leader of every county once ran one query per county)."""
    from municipalities.models import County
    from tests.factories import member_of

    events_for(Municipality.objects.select_related("county").filter(county__code="07"))
    url = reverse("audit:timeline")
    steering_client.get(url)  # per-process caches filled once
    one = queries(steering_client, url)

    for county in County.objects.exclude(code="07"):
        member_of(steering, county.code, "steering")
    every = queries(steering_client, url)

    assert one == every
    # Every municipality of the 21 counties is offered in the filter, after "all".
    page = steering_client.get(url).content.decode()
    select = page[page.index('<select name="municipality"') :]
    assert select[: select.index("</select>")].count("<option value=") == 290 + 1
