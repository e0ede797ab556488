"""No working task link is kept at rest: not in any table (history included), not in the
personal-data export, not in the logs. The outbox keeps the link encrypted until the email is
sent; the delivered email still carries a link that works."""

import datetime
import json
import logging
import re
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.exports import personal_data_export
from notifications import sealing
from notifications.delivery import Outcome, deliver_many
from notifications.models import DeliveryStatus, Event, Notification
from tests.support.smtp import smtp_settings, smtp_sink  # noqa: F401  (fixtures)
from workflows import reminders, services
from workflows.models import TaskLink

from .helpers import walk_to

pytestmark = pytest.mark.django_db

RECEIVING_SERVER_LOGGER = "mail.log"


def tables_holding(text: str) -> list[str]:
    """Every table.column of the database (live, history, audit, sessions, anything) whose
    value, read as text, contains ``text``."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                quoted_table = connection.ops.quote_name(table)
                quoted_column = connection.ops.quote_name(column.name)
                cursor.execute(
                    # Names from the database's own catalogue.
                    f"SELECT count(*) FROM {quoted_table} "  # noqa: S608
                    f"WHERE CAST({quoted_column} AS text) LIKE %s",
                    [f"%{text}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


def token_of(url: str) -> str:
    return url.split("?t=", 1)[1]


def nowhere_at_rest(token: str, contact, caplog) -> None:
    assert tables_holding(token) == []
    assert token not in json.dumps(personal_data_export(contact), default=str)
    # Every log record PolicyFlow, Django, Celery or a library wrote; the test's SMTP server
    # (aiosmtpd's "mail.log", the receiving side) logs the email it received, as it should.
    ours = [record for record in caplog.records if record.name != RECEIVING_SERVER_LOGGER]
    assert all(token not in record.getMessage() for record in ours)


def follow(url: str) -> Client:
    """Open the link as the contact's browser does and return the browser on the draft page."""
    browser = Client()
    response = browser.get(url.split("127.0.0.1:8000", 1)[1])
    assert response.status_code == 302
    page = browser.get(response.url)
    assert page.status_code == 200 and "Växjö" in page.content.decode()
    return browser


@pytest.fixture
def mail_server(smtp_settings):  # noqa: F811 (the imported fixture)
    """Django sends through real SMTP to the test's own server, which keeps what it receives."""
    return smtp_settings


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_no_token_is_at_rest_after_the_request_nor_after_delivery_and_the_email_link_works(
    leader, leader_client, vaxjo, vaxjo_contact, mail_server, logs
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    # The project leader's request-approval step, through its page (session, messages and all).
    response = leader_client.post(
        reverse("workflows:step", args=[task.pk]), {"approvers": [vaxjo_contact.pk]}
    )
    assert response.status_code == 200
    shown_once = re.search(r'id="link-\d+" value="([^"]+)"', response.content.decode()).group(1)
    issued = SimpleNamespace(url=shown_once, link=TaskLink.objects.get(process=process))
    token = token_of(issued.url)
    assert len(token) >= 43

    # After the step: the outbox row waits with a placeholder and the link sealed.
    notification = Notification.objects.get(event=Event.APPROVAL_REQUESTED)
    assert notification.sealed_context
    nowhere_at_rest(token, vaxjo_contact, logs)

    deliver_many(notification_ids=[notification.pk])
    (received,) = mail_server.to(vaxjo_contact.email)
    assert issued.url in received.text and issued.url in received.html
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.SENT and notification.sealed_context == ""
    nowhere_at_rest(token, vaxjo_contact, logs)

    # The link in the delivered email works: it opens the draft and answers the task.
    (emailed_url,) = {word for word in received.text.split() if "/l/open/?t=" in word}
    browser = follow(emailed_url)
    assert browser.post("/l/", {"answer": "approved"}).status_code == 303
    process.refresh_from_db()
    assert process.approval_answers.get().via_link == issued.link


def test_the_link_survives_an_smtp_failure_and_is_erased_once_sent(
    leader, vaxjo, vaxjo_contact, mail_server, logs
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    (issued,) = services.request_approval(task=task, user=leader, approvers=[vaxjo_contact])
    notification = Notification.objects.get(event=Event.APPROVAL_REQUESTED)

    mail_server.answer = "451 4.3.0 Try again later"
    (delivery,) = deliver_many(notification_ids=[notification.pk]).values()
    assert delivery.outcome is Outcome.RETRY
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.QUEUED and notification.sealed_context

    mail_server.answer = None
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=notification.created_at)
    (delivery,) = deliver_many(notification_ids=[notification.pk]).values()
    assert delivery.outcome is Outcome.SENT
    (received,) = mail_server.to(vaxjo_contact.email)
    assert issued.url in received.text
    notification.refresh_from_db()
    assert notification.sealed_context == ""
    nowhere_at_rest(token_of(issued.url), vaxjo_contact, logs)
    follow(issued.url)


def test_a_reminder_carries_a_fresh_working_link_that_is_not_at_rest_either(
    leader, vaxjo, vaxjo_contact, mail_server, logs
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    services.request_approval(task=task, user=leader, approvers=[vaxjo_contact])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        reminders.send_approval_reminders()
        (reminder,) = Notification.objects.filter(event=Event.APPROVAL_REMINDER)
        deliver_many(notification_ids=[reminder.pk])
        (received,) = mail_server.to(vaxjo_contact.email)
        (url,) = {word for word in received.text.split() if "/l/open/?t=" in word}
        nowhere_at_rest(token_of(url), vaxjo_contact, logs)
        follow(url)


def test_links_stored_in_clear_before_the_upgrade_are_sealed_or_erased(
    leader, vaxjo, vaxjo_contact, mail_server, logs
):
    """Rows written by the old code: the migration seals a waiting email's link and erases a
    sent one's; the waiting email is still delivered with its working link."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("workflows.migrations.0008_seal_task_links_in_outbox")
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    (issued,) = services.request_approval(task=task, user=leader, approvers=[vaxjo_contact])
    waiting = Notification.objects.get(event=Event.APPROVAL_REQUESTED)
    # As the old code stored it: the link in clear, nothing sealed.
    waiting.body_text, waiting.body_html = sealing.fill(
        waiting.sealed_context, text=waiting.body_text, html=waiting.body_html
    )
    waiting.sealed_context = ""
    waiting.save()
    sent = Notification.objects.create(
        event=Event.APPROVAL_REQUESTED,
        idempotency_key="old-sent",
        topic=f"process:{process.pk}",
        recipient_email=vaxjo_contact.email,
        subject="Gammalt utskick",
        body_text="Länk: http://127.0.0.1:8000/l/open/?t=OldSentToken_0123456789abcdef\n",
        body_html='<a href="http://127.0.0.1:8000/l/open/?t=OldSentToken_0123456789abcdef">x</a>',
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    assert tables_holding(token_of(issued.url))

    migration.seal_links(apps, None)

    assert tables_holding(token_of(issued.url)) == []
    assert tables_holding("OldSentToken_0123456789abcdef") == []
    sent.refresh_from_db()
    assert sent.sealed_context == "" and "/l/open/?t=" not in sent.body_html
    deliver_many(notification_ids=[waiting.pk])
    (received,) = mail_server.to(vaxjo_contact.email)
    assert issued.url in received.text and issued.url in received.html
    follow(issued.url)
