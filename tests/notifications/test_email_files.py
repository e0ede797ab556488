"""The quick start's mailbox: emails written as files are listed for staff while DEBUG is on,
with their links clickable; the page does not exist otherwise."""

import secrets

import pytest
from django.core import mail

from notifications import delivery, outbox
from notifications.models import Event
from tests.factories import UserFactory
from tests.notifications.helpers import approval_context

pytestmark = pytest.mark.django_db

URL = "/notifications/files/"


@pytest.fixture
def file_emails(settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "emails")
    mail.send_mail(
        "Granska utkastet för Växjö",
        "Öppna länken: http://127.0.0.1:8000/l/open/?t=abc123\n",
        "policyflow@localhost",
        ["vera@vaxjo.example"],
    )
    return tmp_path / "emails"


def test_staff_see_the_written_emails_with_a_clickable_link(client, file_emails, seeded):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Granska utkastet för Växjö" in page
    assert "vera@vaxjo.example" in page
    assert '<a href="http://127.0.0.1:8000/l/open/?t=abc123"' in page


def test_the_mailbox_is_for_staff_only(client, file_emails, seeded):
    client.force_login(UserFactory(is_staff=False))

    assert client.get(URL).status_code == 403


def test_without_debug_the_mailbox_does_not_exist(client, file_emails, settings, seeded):
    settings.DEBUG = False
    client.force_login(UserFactory(is_staff=True))

    assert client.get(URL).status_code == 404


def test_two_emails_sent_on_one_connection_share_a_file_and_both_are_listed_with_their_link(
    client, settings, tmp_path, seeded
):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "emails")
    queued = []
    for name in ("Vera Växjö", "Ali Alvesta"):
        url = f"http://127.0.0.1:8000/l/open/?t={secrets.token_urlsafe(32)}"
        context = approval_context(municipality=name.split()[1])
        del context["task_url"]
        notification = outbox.queue_notification(
            event=Event.APPROVAL_REQUESTED,
            recipient_email=f"{name.split()[0].lower()}@example.se",
            recipient_name=name,
            language="sv",
            context=context,
            sealed_context={"task_url": url},
            key=f"files:{name}",
            topic="process:12",
        )
        queued.append((notification, url))

    # One worker run, one connection: the file backend writes both messages into one file.
    delivery.deliver_many(notification_ids=[n.pk for n, _url in queued])
    assert len(list((tmp_path / "emails").glob("*.log"))) == 1

    client.force_login(UserFactory(is_staff=True))
    page = client.get(URL).content.decode()
    for notification, url in queued:
        assert notification.recipient_email in page
        assert f'<a href="{url}"' in page
    assert "⟦sealed:" not in page
