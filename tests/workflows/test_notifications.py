"""Every step that asks someone to act queues its notification in the step's own transaction."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task

from notifications.models import Event, Notification
from notifications.rendering import build_message
from tests.factories import ContactFactory, UserFactory, member_of
from workflows import reminders, services, task_links
from workflows.flows import PolicyAdoptionFlow
from workflows.models import StageLimit, TaskLink

from .helpers import decision_fields, open_task, walk_to, walk_to_approval

pytestmark = pytest.mark.django_db


def outbox(event):
    return list(Notification.objects.filter(event=event).order_by("pk"))


def outbox_of(process):
    return list(Notification.objects.filter(topic=f"process:{process.pk}").order_by("pk"))


@pytest.fixture
def member(seeded):
    user = UserFactory(username="stina", first_name="Stina", email="stina@region.example")
    member_of(user, "07", "steering")
    return user


def test_starting_a_process_does_not_email_the_leader_about_the_step_they_opened(leader, vaxjo):
    services.start_process(municipality=vaxjo, user=leader)
    # The first step's page is on their screen: an email would only repeat it.
    assert outbox(Event.TASK_ASSIGNED) == []


def test_a_step_the_municipalitys_answer_opens_is_emailed_to_the_leader(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(task=task, contact=vaxjo_contact, answer="approved")
    (message,) = outbox(Event.TASK_ASSIGNED)
    task = open_task(process, "decision")
    assert message.recipient_email == leader.email
    assert message.topic == f"process:{process.pk}"
    assert f"/tasks/{task.pk}/" in message.body_text
    assert "Växjö" in message.subject + message.body_text


def test_requesting_approval_sends_each_contact_their_own_working_link(leader, vaxjo):
    first = ContactFactory(municipality=vaxjo, name="Ada", language="sv")
    second = ContactFactory(municipality=vaxjo, name="Bo", language="en")
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, first, "request_approval", approvers=[first, second])
    issued = services.request_approval(task=task, user=leader, approvers=[first, second])
    messages = outbox(Event.APPROVAL_REQUESTED)
    assert {(m.recipient_email, m.language) for m in messages} == {
        (first.email, "sv"),
        (second.email, "en"),
    }
    for item in issued:
        message = next(m for m in messages if m.recipient_email == item.link.contact.email)
        # Stored without the link (its token); the email built for sending carries it.
        assert item.url not in message.body_text + message.body_html
        built = build_message(message)
        assert item.url in built.body and item.url in built.alternatives[0].content
        path = item.url.split("127.0.0.1:8000", 1)[1]
        assert Client().get(path).status_code == 302  # the emailed link opens the draft


def test_an_answer_tells_the_project_leader_with_the_comment(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(
        task=task, contact=vaxjo_contact, answer="changes_requested", comment="Mer om IOP"
    )
    (message,) = outbox(Event.ANSWER_RECEIVED)
    assert message.recipient_email == leader.email
    assert "Mer om IOP" in message.body_text and "Vera Växjö" in message.body_text
    # ... and about the draft step that is now theirs again.
    assert any(
        f"/tasks/{open_task(process, 'draft').pk}/" in m.body_text
        for m in outbox(Event.TASK_ASSIGNED)
    )


def test_an_answer_through_its_link_emails_the_leader_the_opened_step_then_the_answer(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    (issued,) = services.request_approval(task=task, user=leader, approvers=[vaxjo_contact])
    token = issued.url.split("t=", 1)[1]

    task_links.answer_via_link(token_hash=task_links.hash_token(token), answer="approved")

    # In the order they were told, once each (the step's two emails share one savepoint).
    to_leader = [m for m in outbox_of(process) if m.recipient_email == leader.email]
    assert [m.event for m in to_leader] == [Event.TASK_ASSIGNED, Event.ANSWER_RECEIVED]
    assert f"/tasks/{open_task(process, 'decision').pk}/" in to_leader[0].body_text
    assert all(m.history.count() == 1 for m in to_leader)


def test_a_decision_tells_every_steering_group_member(leader, vaxjo, vaxjo_contact, member):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(task=task, contact=vaxjo_contact, answer="approved")
    services.record_decision(task=open_task(process, "decision"), user=leader, **decision_fields())
    (message,) = outbox(Event.DECISION_RECORDED)
    assert message.recipient_email == member.email
    assert "KS 2026/39" in message.body_text and "57" in message.body_text


def test_a_refused_step_queues_nothing(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    services.record_first_contact(
        task=open_task(process, "contact"),
        user=leader,
        contacted_on=datetime.date(2026, 1, 1),
        channel="email",
        contacts=[vaxjo_contact],
        approvers=[vaxjo_contact],
    )
    before = Notification.objects.count()
    with pytest.raises(services.ValidationError):  # no meeting recorded yet
        services.complete_dialogue(task=open_task(process, "dialogue"), user=leader)
    with pytest.raises(services.StepAlreadyDone):  # the contact step was completed before
        services.record_first_contact(
            task=process.task_set.get(flow_task_type="HUMAN", status="DONE"),
            user=leader,
            contacted_on=datetime.date(2026, 1, 1),
            channel="email",
            contacts=[vaxjo_contact],
            approvers=[vaxjo_contact],
        )
    assert Notification.objects.count() == before


def test_reminders_go_out_after_a_week_and_before_the_links_expire_each_once(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to_approval(process, leader, vaxjo_contact)
    first_link = TaskLink.objects.get(process=process)
    start = timezone.now()

    with time_machine.travel(start + datetime.timedelta(days=6)):
        assert reminders.send_approval_reminders() == 0
    with time_machine.travel(start + datetime.timedelta(days=7, hours=1)):
        assert reminders.send_approval_reminders() == 1
        assert reminders.send_approval_reminders() == 0  # once
    (reminder,) = outbox(Event.APPROVAL_REMINDER)
    assert reminder.recipient_email == vaxjo_contact.email
    first_link.refresh_from_db()
    assert first_link.revoked_at is not None  # the reminder's fresh link replaces it
    fresh = TaskLink.objects.filter(process=process, revoked_at__isnull=True).get()
    assert fresh.expires_at > first_link.expires_at

    # Five days before the fresh link expires, one more reminder.
    with time_machine.travel(fresh.expires_at - datetime.timedelta(days=5, hours=-1)):
        assert reminders.send_approval_reminders() == 1
        assert reminders.send_approval_reminders() == 0
    assert len(outbox(Event.APPROVAL_REMINDER)) == 2


def test_no_reminder_once_the_draft_is_answered(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(task=task, contact=vaxjo_contact, answer="approved")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        assert reminders.send_approval_reminders() == 0
    assert outbox(Event.APPROVAL_REMINDER) == []


def test_a_stalled_process_alerts_its_leader_once_and_the_weekly_digest_lists_it(
    leader, vaxjo, member, seeded
):
    StageLimit.objects.update_or_create(stage="contact", defaults={"days": 14})
    process = services.start_process(municipality=vaxjo, user=leader)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=13)):
        assert reminders.alert_stalled() == 0
        assert reminders.send_stalled_digest() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=15)):
        assert reminders.alert_stalled() == 1
        reminders.alert_stalled()
        reminders.send_stalled_digest()
        reminders.send_stalled_digest()
    (alert,) = outbox(Event.PROCESS_STALLED)
    assert alert.recipient_email == leader.email and "Växjö" in alert.body_text
    assert f"/processes/{process.pk}/" in alert.body_text
    (digest,) = outbox(Event.STALLED_DIGEST)
    assert digest.recipient_email == member.email and "Växjö" in digest.body_text


def test_only_steps_the_municipality_gave_the_leader_are_emailed_once_each(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(
        task=task, contact=vaxjo_contact, answer="changes_requested", comment="Mer om IOP"
    )
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(task=task, contact=vaxjo_contact, answer="approved")

    steps = Task.objects.filter(process_id=process.pk, flow_task_type="HUMAN", owner=leader)
    emailed = [m.body_text for m in outbox(Event.TASK_ASSIGNED)]
    # Of contact, dialogue, draft, request approval, draft again, request approval, decision:
    # the two that followed the contact's answers. The rest the leader opened themselves.
    assert steps.count() == 7 and len(emailed) == 2
    second_draft = steps.filter(flow_task=PolicyAdoptionFlow.draft).order_by("pk").last()
    told_about = {second_draft.pk, open_task(process, "decision").pk}
    for step in steps:
        expected = 1 if step.pk in told_about else 0
        assert sum(f"/tasks/{step.pk}/" in body for body in emailed) == expected, step


def test_a_contact_with_a_very_long_address_is_reminded_once_too(leader, vaxjo):
    """The outbox shortens a key that would not fit (a hash): the reminder job still finds the
    reminder it sent."""
    contact = ContactFactory(municipality=vaxjo, email="k" * 200 + "@" + "x" * 40 + ".example")
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to_approval(process, leader, contact)
    start = timezone.now()

    with time_machine.travel(start + datetime.timedelta(days=7, hours=1)):
        assert reminders.send_approval_reminders() == 1
    with time_machine.travel(start + datetime.timedelta(days=8)):
        assert reminders.send_approval_reminders() == 0

    (reminder,) = outbox(Event.APPROVAL_REMINDER)
    assert reminder.recipient_email == contact.email
