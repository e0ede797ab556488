"""Two project leaders of one county share its work: a new step goes to the process's
responsible leader, a leader claims an unassigned step, hands a step or a whole process to a
colleague with a note (on the record, emailed), and takes over a colleague's open work. Leaders
of another county, the steering and reference groups cannot."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.status import STATUS

from municipalities.models import CountyProject, Municipality
from municipalities.services import end_membership
from notifications.models import Notification
from tests.factories import ContactFactory, leader_of, member_of
from workflows import services
from workflows.assignment import services as assignment

from .helpers import current_task, english, snapshot, visible_text, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

INBOX = reverse("workflows:inbox")


@pytest.fixture
def bo(seeded):
    """Bo, a second project leader of Kronoberg."""
    return leader_of("07", username="bo", first_name="Bo", last_name="Berg")


@pytest.fixture
def bo_client(bo):
    client = Client()
    client.force_login(bo)
    return client


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(code: str, leader):
    return services.start_process(municipality=Municipality.objects.get(code=code), user=leader)


def inbox_rows(client, tab: str | None = None) -> list[str]:
    """The municipality of each row of an inbox tab, in the order shown."""
    url = INBOX + (f"?tab={tab}" if tab else "")
    page = client.get(url).content.decode()
    table = page.split('id="todo-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<td><a href="/processes/\d+/">([^<]+)</a>', table)


def leave_county(user) -> None:
    end_membership(user=user, project=CountyProject.objects.get(county__code="07"))


def test_a_step_completed_by_a_colleague_opens_the_next_for_the_responsible_leader(leader, bo):
    process = start("0780", leader)
    contact = ContactFactory(municipality=process.municipality)

    walk_to(process, bo, contact, "dialogue")  # Bo recorded the first contact

    assert current_task(process).owner == leader


def test_a_new_step_of_a_leader_who_left_is_unassigned_for_the_county_to_claim(
    leader, bo, bo_client
):
    process = start("0780", leader)
    leave_county(leader)

    walk_to(process, bo, ContactFactory(municipality=process.municipality), "dialogue")

    task = current_task(process)
    assert task.owner is None and task.status == STATUS.NEW
    assert inbox_rows(bo_client, "unassigned") == ["Växjö"]
    assert inbox_rows(bo_client) == []  # "mine", where the inbox opens


def test_a_leader_claims_an_unassigned_step_and_finds_it_under_mine(leader, bo, bo_client):
    process = start("0780", leader)
    leave_county(leader)
    walk_to(process, bo, ContactFactory(municipality=process.municipality), "dialogue")
    task = current_task(process)

    response = bo_client.post(reverse("workflows:claim", args=[task.pk]), follow=True)

    assert "The step “Hold the dialogue” is now yours." in visible_text(response)
    assert "Assigned to: Bo Berg" in visible_text(response)
    assert inbox_rows(bo_client) == ["Växjö"]
    assert inbox_rows(bo_client, "unassigned") == []
    assert "Bo Berg claimed the step “Hold the dialogue”" in visible_text(response)


def test_handing_a_step_over_with_a_note_shows_on_the_record_and_emails_the_colleague(
    leader, leader_client, bo, bo_client
):
    process = start("0780", leader)
    task = current_task(process)

    response = leader_client.post(
        reverse("workflows:hand_over_step", args=[task.pk]),
        {"to_user": bo.pk, "note": "I am away in March; the notes are in the meeting log."},
        follow=True,
    )

    page = visible_text(response)
    assert "handed over to Bo Berg, who has been emailed." in page
    assert "Assigned to: Bo Berg" in page
    assert (
        "Pia Projektledare handed the step “Record first contact” over to Bo Berg: "
        "I am away in March; the notes are in the meeting log." in page
    )
    email = Notification.objects.get(recipient_email=bo.email, event="work_handed_over")
    assert "Pia Projektledare" in email.subject
    assert "Växjö: Registrera första kontakt" in email.body_text  # leaders' emails are Swedish
    assert "I am away in March; the notes are in the meeting log." in email.body_text
    assert f"/tasks/{task.pk}/" in email.body_text
    # The inbox tabs follow.
    assert inbox_rows(bo_client) == ["Växjö"]
    assert inbox_rows(leader_client) == []
    assert inbox_rows(leader_client, "all") == ["Växjö"]
    assert "Bo Berg" in visible_text(leader_client.get(INBOX + "?tab=all"))


def test_handing_the_process_over_makes_the_colleague_responsible_for_its_next_steps(
    leader, leader_client, bo
):
    process = start("0780", leader)
    contact = ContactFactory(municipality=process.municipality)

    leader_client.post(
        reverse("workflows:hand_over_process", args=[process.pk]),
        {"to_user": bo.pk, "note": ""},
    )
    walk_to(process, leader, contact, "dialogue")  # Pia still records the first contact

    process.refresh_from_db()
    assert process.lead == bo
    assert current_task(process).owner == bo
    page = visible_text(leader_client.get(reverse("workflows:process", args=[process.pk])))
    assert "Responsible project leader Bo Berg" in page
    assert "Pia Projektledare handed the process over to Bo Berg" in page
    email = Notification.objects.get(recipient_email=bo.email, event="work_handed_over")
    assert "Växjö: Hela processen" in email.body_text


def test_a_step_cannot_be_handed_to_a_leader_of_another_county(
    leader, leader_client, bo, kalmar_leader
):
    task = current_task(start("0780", leader))
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:hand_over_step", args=[task.pk]), {"to_user": kalmar_leader.pk}
    )

    assert response.status_code == 400
    assert "Choose an active project leader of the county." in visible_text(response)
    assert snapshot() == before


@pytest.mark.parametrize("who", ["kalmar_leader", "steering", "reference"])
def test_only_leaders_of_the_county_may_claim_or_hand_over(request, leader, bo, who):
    process = start("0780", leader)
    task = current_task(process)
    client = client_of(request.getfixturevalue(who))
    before = snapshot()

    answers = {
        client.post(reverse("workflows:claim", args=[task.pk])).status_code,
        client.post(
            reverse("workflows:hand_over_step", args=[task.pk]), {"to_user": bo.pk}
        ).status_code,
        client.post(
            reverse("workflows:hand_over_process", args=[process.pk]), {"to_user": bo.pk}
        ).status_code,
    }

    # Another county's process does not exist for its leader; the county's readers may not act.
    assert answers == ({404} if who == "kalmar_leader" else {403})
    assert snapshot() == before


def test_claiming_is_post_only(leader, leader_client):
    task = current_task(start("0780", leader))

    assert leader_client.get(reverse("workflows:claim", args=[task.pk])).status_code == 405


def test_a_leader_gives_an_away_colleagues_chosen_work_to_another_in_one_go(leader, bo, bo_client):
    carl = leader_of("07", username="carl", first_name="Carl", last_name="Cedar")
    vaxjo = start("0780", leader)
    ljungby = start("0781", leader)
    alvesta = start("0764", leader)
    page = bo_client.get(reverse("workflows:person_work", args=[leader.pk]))
    assert page.status_code == 200
    assert "Open work of Pia Projektledare" in visible_text(page)

    response = bo_client.post(
        reverse("workflows:person_work", args=[leader.pk]),
        {
            "tasks": [current_task(vaxjo).pk, current_task(ljungby).pk],
            "processes": [vaxjo.pk],
            "to_user": carl.pk,
            "note": "While Pia is on leave",
        },
        follow=True,
    )

    assert "given to Carl Cedar, who has been emailed." in visible_text(response)
    assert current_task(vaxjo).owner == carl
    assert current_task(ljungby).owner == carl
    assert current_task(alvesta).owner == leader  # not chosen
    vaxjo.refresh_from_db()
    ljungby.refresh_from_db()
    assert (vaxjo.lead, ljungby.lead) == (carl, leader)
    emails = Notification.objects.filter(recipient_email=carl.email, event="work_handed_over")
    assert emails.count() == 1  # one action, one email listing everything
    body = emails.get().body_text
    assert "Ljungby: Registrera första kontakt" in body and "Växjö: Hela processen" in body
    assert "While Pia is on leave" in body
    assert sorted(inbox_rows(client_of(carl))) == ["Ljungby", "Växjö"]


def test_taking_over_work_yourself_sends_you_no_email(leader, bo, bo_client):
    vaxjo = start("0780", leader)

    bo_client.post(
        reverse("workflows:person_work", args=[leader.pk]),
        {"tasks": [current_task(vaxjo).pk], "to_user": bo.pk},
    )

    assert current_task(vaxjo).owner == bo
    assert not Notification.objects.filter(recipient_email=bo.email).exists()


def test_a_deactivated_leaders_open_work_is_listed_for_reassignment(leader, bo, bo_client):
    start("0780", leader)
    leader.is_active = False
    leader.save()

    inbox = bo_client.get(INBOX)
    assert "Pia Projektledare: 2 open items" in visible_text(inbox)  # her step and her process
    work = bo_client.get(reverse("workflows:person_work", args=[leader.pk]))
    assert "Pia Projektledare's account is deactivated" in visible_text(work)
    assert "Växjö: Record first contact" in visible_text(work)


def test_another_countys_leader_cannot_see_or_take_a_persons_work(leader, bo, kalmar_leader):
    task = current_task(start("0780", leader))
    client = client_of(kalmar_leader)
    before = snapshot()

    assert client.get(reverse("workflows:person_work", args=[leader.pk])).status_code == 404
    response = client.post(
        reverse("workflows:person_work", args=[leader.pk]),
        {"tasks": [task.pk], "to_user": kalmar_leader.pk},
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_reassigning_refuses_a_step_that_is_no_longer_the_persons(leader, bo):
    task = current_task(start("0780", leader))
    assignment.hand_over_step(task=task, to_user=bo, by=leader)
    carl = leader_of("07", username="carl", first_name="Carl", last_name="Cedar")
    before = snapshot()

    with pytest.raises(Exception, match="no longer Pia Projektledare's"):
        assignment.reassign_work(from_user=leader, to_user=carl, by=bo, tasks=[task])
    assert snapshot() == before


def queries(client, url: str) -> int:
    client.get(url)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("tab", ["mine", "unassigned", "all"])
def test_inbox_tab_queries_do_not_grow_with_the_number_of_steps(leader, bo, bo_client, tab):
    codes = ["0760", "0761", "0763", "0764", "0765", "0767", "0780", "0781"]
    start(codes[0], leader)
    assignment.hand_over_step(task=current_task(start(codes[1], leader)), to_user=bo, by=leader)
    small = queries(bo_client, f"{INBOX}?tab={tab}")

    for code in codes[2:5]:
        assignment.hand_over_step(task=current_task(start(code, leader)), to_user=bo, by=leader)
    for code in codes[5:]:
        start(code, leader)
    large = queries(bo_client, f"{INBOX}?tab={tab}")

    assert small == large


def test_work_is_stranded_only_in_the_county_its_holder_no_longer_leads(leader, bo, bo_client):
    member_of(leader, "08", "leader")  # Pia leads Kalmar too
    start("0780", leader)  # Växjö, Kronoberg
    start("0880", leader)  # Kalmar
    leave_county(leader)
    both = member_of(leader_of("07", username="cleo", first_name="Cleo"), "08", "leader")

    # Her step and her process in Växjö; what she holds in Kalmar, which she still leads, is
    # not for Kronoberg's leaders, nor stranded for a leader of both.
    assert "Pia Projektledare: 2 open items" in visible_text(bo_client.get(INBOX))
    assert "Pia Projektledare: 2 open items" in visible_text(client_of(both).get(INBOX))
