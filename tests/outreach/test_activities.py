"""Knowledge spreading as a project leader records it and a steering group reads it: in Swedish,
scoped to the county, on the record."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from municipalities.models import County, Municipality
from outreach.models import Activity, Audience
from tests.factories import ActivityFactory, AudienceFactory

pytestmark = pytest.mark.django_db


def post_data(**overrides) -> dict:
    """A filled-in activity form: a seminar in Växjö reaching municipalities and companies."""
    data = {
        "county": "07",
        "kind": "seminar",
        "title": "Frukostseminarium om reserverad upphandling",
        "held_on": "2026-10-14",
        "organiser": "Region Kronoberg och Coompanion",
        "description": "",
        "municipalities": [str(Municipality.objects.get(code="0780").pk)],
        "audience-TOTAL_FORMS": "6",
        "audience-INITIAL_FORMS": "6",
        "audience-MIN_NUM_FORMS": "6",
        "audience-MAX_NUM_FORMS": "6",
    }
    for index in range(6):
        for name in ("total", "women", "men", "other"):
            data[f"audience-{index}-{name}"] = ""
    # Row 0: municipality; row 3: private company.
    data.update({"audience-0-total": "12", "audience-0-women": "7", "audience-0-men": "5"})
    data.update({"audience-3-total": "4"})
    data.update(overrides)
    return data


def test_leader_records_an_activity_and_a_swedish_reader_sees_it(client, leader, steering):
    client.force_login(leader)
    response = client.post(reverse("outreach:activity_create"), post_data())
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach:activity", args=[activity.pk])
    assert {(a.actor_type, a.total, a.women, a.men, a.other) for a in activity.audience.all()} == {
        ("municipality", 12, 7, 5, None),
        ("private_company", 4, None, None, None),
    }

    client.force_login(steering)
    page = client.get(reverse("outreach:activity", args=[activity.pk])).content.decode()
    assert "Frukostseminarium om reserverad upphandling" in page
    assert "Seminarium" in page
    assert "Växjö" in page
    assert "Personer som nåtts" in page
    assert "Privat företag" in page
    assert "16" in page  # the total reached
    assert "Korrigera aktiviteten" not in page  # the steering group reads only

    listing = client.get(reverse("outreach:activities")).content.decode()
    assert "Kunskapsspridning" in listing
    assert "1 aktivitet" in listing


def test_gender_counts_above_the_total_are_refused_with_a_message(client, leader):
    client.force_login(leader)
    response = client.post(
        reverse("outreach:activity_create"),
        post_data(**{"audience-0-women": "9", "audience-0-men": "5"}),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Kommun: kvinnor, män och annat blir sammanlagt 14, fler än de 12 personer som nåtts."
        in page
    )
    assert not Activity.objects.exists()


def test_a_negative_count_is_refused(client, leader):
    client.force_login(leader)
    response = client.post(
        reverse("outreach:activity_create"), post_data(**{"audience-3-total": "-2"})
    )
    assert response.status_code == 400
    assert "Kontrollera att detta värde är större än eller lika med 0." in response.content.decode()
    assert not Activity.objects.exists()


def test_gender_counts_without_a_total_are_refused(client, leader):
    client.force_login(leader)
    response = client.post(
        reverse("outreach:activity_create"), post_data(**{"audience-1-women": "3"})
    )
    assert response.status_code == 400
    assert "Ange antalet personer som nåtts, inte bara per kön." in response.content.decode()


def test_the_database_refuses_gender_counts_above_the_total(leader):
    activity = ActivityFactory(county=County.objects.get(code="07"), created_by=leader)
    with pytest.raises(IntegrityError), transaction.atomic():
        AudienceFactory(activity=activity, total=3, women=2, men=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AudienceFactory(activity=activity, actor_type="region", total=-1)


def test_a_municipality_of_another_county_is_refused(client, leader):
    client.force_login(leader)
    kalmar = Municipality.objects.get(code="0880")
    response = client.post(
        reverse("outreach:activity_create"), post_data(municipalities=[str(kalmar.pk)])
    )
    assert response.status_code == 400
    assert not Activity.objects.exists()


def test_correcting_an_activity_keeps_the_record(client, leader):
    client.force_login(leader)
    client.post(reverse("outreach:activity_create"), post_data())
    activity = Activity.objects.get()
    response = client.post(
        reverse("outreach:activity_edit", args=[activity.pk]),
        post_data(title="Frukostseminarium (rättad titel)", **{"audience-3-total": ""}),
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.title == "Frukostseminarium (rättad titel)"
    assert list(activity.audience.values_list("actor_type", flat=True)) == ["municipality"]
    events = AuditEvent.objects.filter(model_label__startswith="outreach.")
    assert events.filter(county_code="07").count() == events.count() > 0
    assert events.filter(summary__contains="rättad titel").exists()
    assert Audience.history.filter(history_type="-", actor_type="private_company").exists()


def test_other_counties_activities_answer_404(client, leader, kalmar_leader):
    activity = ActivityFactory(county=County.objects.get(code="07"), created_by=leader)
    client.force_login(kalmar_leader)
    assert client.get(reverse("outreach:activity", args=[activity.pk])).status_code == 404
    assert client.get(reverse("outreach:activity_edit", args=[activity.pk])).status_code == 404
    assert (
        client.post(reverse("outreach:activity_edit", args=[activity.pk]), post_data()).status_code
        == 404
    )
    assert client.get(reverse("outreach:activity_create") + "?county=07").status_code == 404
    assert client.post(reverse("outreach:activity_create"), post_data()).status_code == 404
    assert activity.title not in client.get(reverse("outreach:activities")).content.decode()
    assert client.get(reverse("outreach:activities") + "?county=07").status_code == 404


def test_readers_cannot_write(client, leader, steering, reference):
    activity = ActivityFactory(county=County.objects.get(code="07"), created_by=leader)
    for reader in (steering, reference):
        client.force_login(reader)
        assert client.get(reverse("outreach:activity", args=[activity.pk])).status_code == 200
        assert (
            client.post(
                reverse("outreach:activity_edit", args=[activity.pk]), post_data()
            ).status_code
            == 403
        )
        assert client.post(reverse("outreach:activity_create"), post_data()).status_code == 403


def test_the_list_runs_the_same_queries_with_more_activities(
    client, leader, steering, django_assert_max_num_queries
):
    kronoberg = County.objects.get(code="07")
    vaxjo, ljungby = Municipality.objects.filter(code__in=["0780", "0781"])
    client.force_login(steering)
    url = reverse("outreach:activities")

    def build(count):
        for _n in range(count):
            activity = ActivityFactory(county=kronoberg, created_by=leader)
            activity.municipalities.set([vaxjo, ljungby])
            AudienceFactory(activity=activity, total=5, women=2)
            AudienceFactory(activity=activity, actor_type="asf", total=3)

    build(2)
    client.get(url)  # warm-up: per-process caches
    with django_assert_max_num_queries(8) as small:
        assert client.get(url).status_code == 200
    build(40)
    with django_assert_max_num_queries(len(small)):
        page = client.get(url).content.decode()
    assert "42 aktiviteter" in page


def test_a_count_beyond_any_audience_is_refused_not_a_server_error(client, leader):
    client.force_login(leader)
    response = client.post(
        reverse("outreach:activity_create"), post_data(**{"audience-0-total": "9" * 30})
    )
    assert response.status_code == 400
    assert "Kontrollera antalen personer som nåtts." in response.content.decode()
    assert not Activity.objects.exists()
