"""The quick start's mailbox: emails written as files are listed for staff while DEBUG is on,
with their links clickable; the page does not exist otherwise."""

import pytest
from django.core import mail

from tests.factories import UserFactory

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
