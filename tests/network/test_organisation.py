"""The collaboration organisation as a project leader keeps it and the steering and reference
groups read it: members from the register, meetings with their minutes, milestones; in Swedish,
scoped to the county, on the record."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from municipalities.models import County, Municipality
from network import services
from network.models import Member, NetworkMeeting, Organisation
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def kronoberg(seeded):
    return County.objects.get(code="07")


@pytest.fixture
def organisation(leader, kronoberg):
    return services.form_organisation(
        user=leader, county=kronoberg, name="Samverkan för ASF i Kronoberg"
    )


@pytest.fixture
def asf(kronoberg):
    vaxjo = Municipality.objects.get(code="0780")
    return [
        EnterpriseFactory(name="Returbutiken Växjö", municipalities=[vaxjo]),
        EnterpriseFactory(name="Cykelköket", municipalities=[vaxjo]),
        EnterpriseFactory(name="Grön Omsorg", municipalities=[vaxjo]),
    ]


def test_leader_forms_the_organisation_and_readers_see_it_in_swedish(
    client, leader, steering, reference, kronoberg
):
    client.force_login(leader)
    page = client.get(reverse("network:organisation")).content.decode()
    assert "har ännu inte bildat sin samverkansorganisation" in page
    response = client.post(
        reverse("network:form_organisation", args=["07"]), {"name": "Samverkan för ASF"}
    )
    assert response.status_code == 302
    assert Organisation.objects.get(county=kronoberg).name == "Samverkan för ASF"
    for reader in (steering, reference):
        client.force_login(reader)
        page = client.get(reverse("network:organisation")).content.decode()
        assert "Samverkan för ASF" in page
        assert "Milstolpar" in page
        assert "Inga medlemmar ännu." in page
        assert "Registrera en milstolpe" not in page  # readers only read


def test_members_join_and_leave_on_the_record(client, leader, organisation, asf):
    client.force_login(leader)
    url = reverse("network:add_member", args=["07"])
    for enterprise in asf[:2]:
        response = client.post(url, {"enterprise": enterprise.pk, "joined_on": "2026-03-01"})
        assert response.status_code == 302
    again = client.post(url, {"enterprise": asf[0].pk, "joined_on": "2026-04-01"})
    assert again.status_code == 400
    assert "Returbutiken Växjö är redan medlem." in again.content.decode()

    member = Member.objects.get(enterprise=asf[1])
    early = client.post(
        reverse("network:end_membership", args=[member.pk]),
        {f"leave-{member.pk}-left_on": "2026-02-01"},
    )
    assert early.status_code == 400
    assert "Medlemmen kan inte lämna före den gick med" in early.content.decode()
    client.post(
        reverse("network:end_membership", args=[member.pk]),
        {f"leave-{member.pk}-left_on": "2026-09-30"},
    )
    page = client.get(reverse("network:organisation") + "?county=07").content.decode()
    assert "1 medlem" in page
    assert "Tidigare medlemmar" in page
    assert AuditEvent.objects.filter(
        model_label="network.member", county_code="07", summary__contains="lämnade"
    ).exists()


def test_a_meeting_with_attendance_decisions_and_minutes(
    client, leader, steering, organisation, asf, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    for enterprise in asf[:2]:
        services.add_member(
            user=leader,
            organisation=organisation,
            enterprise=enterprise,
            joined_on=datetime.date(2026, 1, 15),
        )
    client.force_login(leader)
    url = reverse("network:add_meeting", args=["07"])
    data = {
        "held_on": "2026-10-01",
        "agenda": "1. Stadgar\n2. Val av styrelse",
        "decisions": "Stadgarna antogs.",
        "attendees": [asf[0].pk, asf[2].pk],  # Grön Omsorg is not a member
    }
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "Inte medlemmar 2026-10-01: Grön Omsorg." in refused.content.decode()

    wrong_file = SimpleUploadedFile("protokoll.pdf", b"not a pdf at all", "application/pdf")
    refused = client.post(url, {**data, "attendees": [asf[0].pk], "minutes_file": wrong_file})
    assert refused.status_code == 400
    assert not NetworkMeeting.objects.exists()

    minutes = SimpleUploadedFile("Mitt protokoll.pdf", PDF, "application/pdf")
    response = client.post(
        url, {**data, "attendees": [asf[0].pk, asf[1].pk], "minutes_file": minutes}
    )
    assert response.status_code == 302
    meeting = NetworkMeeting.objects.get()
    assert "Mitt protokoll" not in meeting.minutes_file.name  # a random name on disk

    client.force_login(steering)
    page = client.get(reverse("network:meeting", args=[meeting.pk])).content.decode()
    assert "Dagordning" in page
    assert "Stadgarna antogs." in page
    assert "Returbutiken Växjö" in page and "Cykelköket" in page
    download = client.get(reverse("network:minutes_file", args=[meeting.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert (
        "protokoll-samverkan-for-asf-i-kronoberg-2026-10-01.pdf" in download["Content-Disposition"]
    )
    assert b"".join(download.streaming_content) == PDF


def test_an_other_milestone_needs_a_description(client, leader, organisation):
    client.force_login(leader)
    url = reverse("network:add_milestone", args=["07"])
    refused = client.post(url, {"kind": "other", "reached_on": "2026-05-01", "description": ""})
    assert refused.status_code == 400
    assert "Beskriv milstolpen som nåtts." in refused.content.decode()
    client.post(url, {"kind": "statutes_adopted", "reached_on": "2026-05-01"})
    page = client.get(reverse("network:organisation") + "?county=07").content.decode()
    assert "Stadgar antagna" in page


def test_other_counties_answer_404_and_readers_cannot_write(
    client, leader, steering, kalmar_leader, organisation, asf
):
    member = services.add_member(
        user=leader,
        organisation=organisation,
        enterprise=asf[0],
        joined_on=datetime.date(2026, 1, 1),
    )
    meeting = services.record_meeting(
        user=leader,
        organisation=organisation,
        held_on=datetime.date(2026, 2, 1),
        agenda="Uppstart",
        attendees=[asf[0]],
    )
    client.force_login(kalmar_leader)
    assert client.get(reverse("network:organisation") + "?county=07").status_code == 404
    assert client.get(reverse("network:meeting", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("network:minutes_file", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("network:add_meeting", args=["07"])).status_code == 404
    left = {f"leave-{member.pk}-left_on": "2026-03-01"}
    assert client.post(reverse("network:end_membership", args=[member.pk]), left).status_code == 404

    client.force_login(steering)
    assert client.get(reverse("network:meeting", args=[meeting.pk])).status_code == 200
    assert client.get(reverse("network:add_meeting", args=["07"])).status_code == 403
    assert client.post(reverse("network:end_membership", args=[member.pk]), left).status_code == 403
    assert (
        client.post(reverse("network:form_organisation", args=["07"]), {"name": "Ny"}).status_code
        == 403
    )


def test_the_organisation_page_runs_the_same_queries_with_more_data(
    client, leader, steering, organisation, django_assert_max_num_queries
):
    vaxjo = Municipality.objects.get(code="0780")

    def build(count, start):
        enterprises = [EnterpriseFactory(municipalities=[vaxjo]) for _n in range(count)]
        for enterprise in enterprises:
            services.add_member(
                user=leader,
                organisation=organisation,
                enterprise=enterprise,
                joined_on=datetime.date(2026, 1, 1),
            )
        for day in range(count):
            services.record_meeting(
                user=leader,
                organisation=organisation,
                held_on=datetime.date(2026, start, day + 1),
                agenda="Möte",
                attendees=enterprises,
            )
            services.record_milestone(
                user=leader,
                organisation=organisation,
                kind="other",
                reached_on=datetime.date(2026, start, day + 1),
                description=f"Steg {day}",
            )

    client.force_login(steering)
    url = reverse("network:organisation") + "?county=07"
    build(2, 2)
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    build(20, 3)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
