"""The benchmarked pages that other tests do not cover run as many queries at large data as at
small: the timeline's deep keyset page, the streamed CSV export, and the reference page.

(The inbox, the process page, the timeline's first page and the county overview have their own
query-count tests in tests/workflows and tests/audit.)
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, ChainHead, Kind, chain_of
from municipalities.models import Municipality

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("bench")]


def add_events(count: int) -> list[int]:
    """``count`` events after the head of Växjö's chain, written in bulk. Their hashes are not
    chained: these tests count queries and never verify."""
    place = Municipality.objects.select_related("county").get(code="0780")
    head = ChainHead.objects.filter(key=chain_of(place.pk)).first() or ChainHead(seq=0)
    now = timezone.now()
    events = AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                chain=chain_of(place.pk),
                seq=head.seq + number + 1,
                occurred_at=now,
                kind=Kind.MEETING_RECORDED,
                model_label="workflows.meeting",
                object_id=str(number),
                process_id=1,
                municipality_id=place.pk,
                municipality_name=place.name,
                county_code=place.county.code,
                stage="dialogue",
                summary=f"Meeting {number}",
                changes={"held_on": [None, "2025-01-02"]},
                personal_digest="0" * 64,
                prev_hash="0" * 64,
                hash="0" * 64,
            )
            for number in range(count)
        ],
        batch_size=2000,
    )
    ChainHead.objects.update_or_create(
        key=chain_of(place.pk), defaults={"seq": head.seq + count, "hash": "0" * 64}
    )
    return [event.pk for event in events]


def queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured)


def deep_page(ids: list[int]) -> str:
    """The keyset page 95 % of the way down the timeline (newest first), with a whole page (50)
    of generated events below its bound: the page then shows generated events only, whatever
    the size, so its names to look up (one query per related model) are the same."""
    return f"{reverse('audit:timeline')}?after={sorted(ids)[max(len(ids) // 20, 51)]}"


def test_timeline_deep_page_runs_as_many_queries_with_5000_events_as_with_60(leader_client):
    ids = add_events(60)
    leader_client.get(deep_page(ids))  # warm-up: per-process caches
    cache.clear()  # and rendered afresh, not from the page cache
    small = queries(leader_client, deep_page(ids))
    ids += add_events(5000)
    large = queries(leader_client, deep_page(ids))
    assert small == large


def test_deep_page_shows_the_events_just_older_than_its_keyset_bound(leader_client):
    ids = sorted(add_events(200))
    bound = ids[10]
    page = leader_client.get(f"{reverse('audit:timeline')}?after={bound}").content.decode()
    assert f"Meeting {10 - 1}" in page
    assert f"Meeting {10}<" not in page


def test_csv_export_streams_5000_events_with_as_many_queries_as_60(leader_client):
    add_events(60)
    # A municipality's trail, streamed in the request (the whole trail is an export job).
    url = reverse("audit:municipality_csv", args=[Municipality.objects.get(code="0780").pk])
    queries(leader_client, url)
    small = queries(leader_client, url)
    add_events(5000)
    assert queries(leader_client, url) == small


def test_reference_page_runs_two_queries(client, leader, settings):
    settings.ROOT_URLCONF = "bench.urls"
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]
    client.force_login(leader)
    url = reverse("bench_minimal")
    client.get(url)
    assert queries(client, url) == 2  # the session and the user
