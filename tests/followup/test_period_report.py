"""The follow-up of the whole project for a period with known data: what the steering group
reads on the page, in the PDF and in the CSV file, for its own county only."""

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from municipalities.models import County, Municipality
from network import services as network
from outreach import services as outreach
from outreach.services import Reached
from tests.factories import ContactFactory, EnterpriseFactory
from tests.workflows.helpers import decision_fields, walk_to
from workflows import services as workflows

pytestmark = pytest.mark.django_db

Q3 = "2026Q3"  # 1 July – 30 September 2026


def moment(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{day} 12:00"))


def activity(user, county, day, kind="seminar", **audience):
    return outreach.record_activity(
        user=user,
        county=county,
        kind=kind,
        title=f"Aktivitet {day}",
        held_on=datetime.date.fromisoformat(day),
        organiser="Region Kronoberg",
        audience=audience,
    )


@pytest.fixture
def known_data(leader, kalmar_leader):
    """Q3 2026 in Kronoberg: two activities, a network meeting, a milestone, a new ASF, Växjö
    adopting its policy and Ljungby drafting; and data outside the period or the county."""
    kronoberg, kalmar = County.objects.get(code="07"), County.objects.get(code="08")
    vaxjo, ljungby, alvesta = (Municipality.objects.get(code=c) for c in ("0780", "0781", "0764"))

    # Aim 1: 2 activities in Q3, one before it, one in another county.
    activity(
        leader,
        kronoberg,
        "2026-08-10",
        municipality=Reached(12, women=7, men=5),
        private_company=Reached(4),
    )
    activity(
        leader,
        kronoberg,
        "2026-09-15",
        kind="study_visit",
        municipality=Reached(3, women=1, men=1, other=1),
        asf=Reached(6, women=2),
    )
    activity(leader, kronoberg, "2026-06-30", municipality=Reached(100))
    activity(kalmar_leader, kalmar, "2026-08-10", municipality=Reached(50))

    # The register: one ASF before the period, one new in it (in two municipalities), one after.
    old = EnterpriseFactory(
        name="Returbutiken", municipalities=[vaxjo], registered_on=datetime.date(2025, 5, 1)
    )
    new = EnterpriseFactory(
        name="Cykelköket", municipalities=[vaxjo, ljungby], registered_on=datetime.date(2026, 8, 1)
    )
    later = EnterpriseFactory(
        name="Grön Omsorg", municipalities=[alvesta], registered_on=datetime.date(2026, 10, 1)
    )

    # Aim 2: members joining and leaving, a meeting in the period and one after, a milestone.
    organisation = network.form_organisation(user=leader, county=kronoberg, name="Samverkan ASF")
    network.add_member(
        user=leader, organisation=organisation, enterprise=old, joined_on=datetime.date(2026, 1, 1)
    )
    member = network.add_member(
        user=leader, organisation=organisation, enterprise=new, joined_on=datetime.date(2026, 8, 1)
    )
    network.record_meeting(
        user=leader,
        organisation=organisation,
        held_on=datetime.date(2026, 8, 20),
        agenda="Stadgar",
        attendees=[old, new],
    )
    network.end_membership(user=leader, member=member, left_on=datetime.date(2026, 9, 10))
    network.add_member(
        user=leader,
        organisation=organisation,
        enterprise=later,
        joined_on=datetime.date(2026, 10, 5),
    )
    network.record_meeting(
        user=leader,
        organisation=organisation,
        held_on=datetime.date(2026, 10, 10),
        agenda="Höstmöte",
    )
    network.record_milestone(
        user=leader,
        organisation=organisation,
        kind="statutes_adopted",
        reached_on=datetime.date(2026, 8, 20),
    )

    # Aim 3: Växjö adopts in August; Ljungby reaches the draft in August, sends it in November.
    with time_machine.travel(moment("2026-08-20"), tick=False):
        contact = ContactFactory(municipality=vaxjo)
        process = workflows.start_process(municipality=vaxjo, user=leader)
        task = walk_to(process, leader, contact, "decision")
        workflows.record_decision(task=task, user=leader, **decision_fields())
        ljungby_contact = ContactFactory(municipality=ljungby)
        ljungby_process = workflows.start_process(municipality=ljungby, user=leader)
        walk_to(ljungby_process, leader, ljungby_contact, "draft")
        ljungby_process.refresh_from_db()
        ljungby_stage_in_q3 = ljungby_process.get_stage_display()
    with time_machine.travel(moment("2026-11-10"), tick=False):
        walk_to(ljungby_process, leader, ljungby_contact, "approval")
    return {"ljungby_stage_in_q3": str(ljungby_stage_in_q3)}


def row(label: str, *numbers) -> str:
    """A table row as the page writes it: the label, then its numbers."""
    cells = "".join(f'<td class="number">{n}</td>' for n in numbers)
    return f'<th scope="row">{label}</th>{cells}'


def table_rows(page: str, caption: str) -> str:
    start = page.index(caption)
    return page[start : page.index("</table>", start)]


def test_the_period_report_counts_each_aim_for_the_period(client, steering, known_data):
    client.force_login(steering)
    response = client.get(reverse("followup:page"), {"period": Q3, "county": "07"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Uppföljning av Kronobergs län: Kvartal 3 2026" in page

    # Aim 1: two activities, 25 people; by actor type with the gender sums.
    assert "2 aktiviteter nådde 25 personer." in page
    actors = table_rows(page, "Personer som nåtts per aktörstyp")
    assert row("Kommun", 15, 8, 6, 1, 0) in actors
    assert row("Privat företag", 4, 0, 0, 0, 4) in actors
    assert row("Totalt", 25, 10, 6, 1, 4) in actors
    kinds = table_rows(page, "Aktiviteter per slag")
    assert row("Seminarium", 1, 16) in kinds
    assert row("Studiebesök", 1, 9) in kinds

    # Aim 2: members at the end, joined, left, meetings and attendance, the milestone.
    network = table_rows(page, "Medlemmar och möten")
    for label, number in [
        ("Medlemmar vid periodens slut", 1),
        ("Nya medlemmar", 1),
        ("Medlemmar som lämnat", 1),
        ("Hållna möten", 1),
        ("Närvarande medlemmar, summerat över mötena", 2),
    ]:
        assert row(label, number) in network
    assert "2026-08-20: Stadgar antagna" in page

    # The register: Växjö grew from 1 to 2, Ljungby from 0 to 1; the county from 1 to 2.
    register = table_rows(page, "ASF i registret per kommun</caption>")
    assert row("Växjö", 1, 2, "+1", 1) in register
    assert row("Ljungby", 0, 1, "+1", 1) in register
    assert row("Alvesta", 0, 0, 0, 0) in register

    # Aim 3: Växjö adopted in the period, Ljungby in its Q3 stage, six not started.
    assert "1 policy antogs under perioden; vid dess slut hade 1 av 8 kommuner antagit en." in page
    stages = table_rows(page, "Kommuner per steg i policyarbetet vid periodens slut</caption>")
    assert row("Inte startad", 6) in stages
    assert row(known_data["ljungby_stage_in_q3"], 1) in stages
    assert row("Policyn antagen", 1) in stages
    # Charts, each beside its table.
    assert page.count('<img src="data:image/svg+xml;base64,') == 4


def test_the_csv_and_the_pdf_carry_the_same_figures(client, reference, known_data):
    client.force_login(reference)  # the reference group reads the follow-up too
    query = {"period": Q3, "county": "07"}
    response = client.get(reverse("followup:csv"), query)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="policyflow-uppfoljning-kronobergs-lan-2026q3.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["Mål", "Mått", "Post", "Antal", "Kvinnor", "Män", "Annat"] in rows
    assert [
        "1 Kunskapsspridning",
        "Personer som nåtts per aktörstyp",
        "Kommun",
        "15",
        "8",
        "6",
        "1",
    ] in rows
    assert ["2 Samverkansorganisation", "Hållna möten", "", "1", "", "", ""] in rows
    assert ["3 Policyer", "Policyer antagna under perioden", "", "1", "", "", ""] in rows

    excel = client.get(reverse("followup:csv"), {**query, "delimiter": "semicolon"})
    assert "2 Samverkansorganisation;Hållna möten;;1;;;" in excel.content.decode("utf-8-sig")

    pdf = client.get(reverse("followup:pdf"), query)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Uppföljning av Kronobergs län: Kvartal 3 2026" in text
    assert "2 aktiviteter nådde 25 personer." in text


def test_another_county_and_an_unknown_period_answer_404(client, kalmar_leader, steering):
    client.force_login(kalmar_leader)
    assert client.get(reverse("followup:page"), {"county": "07"}).status_code == 404
    assert client.get(reverse("followup:pdf"), {"county": "07"}).status_code == 404
    assert client.get(reverse("followup:csv"), {"county": "07"}).status_code == 404
    page = client.get(reverse("followup:page")).content.decode()
    assert "Kalmar län" in page
    client.force_login(steering)
    assert client.get(reverse("followup:page"), {"period": "2026Q5"}).status_code == 404
    assert client.get(reverse("followup:page"), {"period": "project"}).status_code == 200


def test_the_follow_up_page_runs_the_same_queries_with_more_data(
    client, leader, steering, django_assert_max_num_queries
):
    kronoberg = County.objects.get(code="07")
    vaxjo = Municipality.objects.get(code="0780")
    organisation = network.form_organisation(user=leader, county=kronoberg, name="Samverkan")

    def build(count):
        for n in range(count):
            activity(
                leader,
                kronoberg,
                f"2026-08-{n + 1:02d}",
                municipality=Reached(5, women=2),
                asf=Reached(2),
            )
            enterprise = EnterpriseFactory(
                municipalities=[vaxjo], registered_on=datetime.date(2026, 7, 1)
            )
            network.add_member(
                user=leader,
                organisation=organisation,
                enterprise=enterprise,
                joined_on=datetime.date(2026, 7, 1),
            )
            network.record_meeting(
                user=leader,
                organisation=organisation,
                held_on=datetime.date(2026, 9, n + 1),
                agenda="Möte",
                attendees=[enterprise],
            )
            network.record_milestone(
                user=leader,
                organisation=organisation,
                kind="other",
                reached_on=datetime.date(2026, 9, n + 1),
                description=f"Steg {n}",
            )

    client.force_login(steering)
    url = reverse("followup:page") + f"?period={Q3}&county=07"
    build(2)
    client.get(url)
    # At most 21 (with Django's ModelBackend, which reads own and group permissions apart),
    # and no more with six times the data.
    with django_assert_max_num_queries(21) as small:
        assert client.get(url).status_code == 200
    build(12)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
