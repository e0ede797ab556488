"""Repeated failed sign-ins lock the account name for a while (django-axes): the right password
no longer signs in, on the site's and the admin's sign-in page; the lockout page says so in
Swedish; each lockout is on the audit trail; an administrator can lift it."""

import datetime
import io
import json
import textwrap

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, Kind
from tests.factories import UserFactory
from workflows.seeding import PROJECT_LEADERS

from .test_production_settings import run

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's


@pytest.fixture
def pia(seeded):
    user = UserFactory(username="pia")
    user.groups.add(Group.objects.get(name=PROJECT_LEADERS))
    return user


@pytest.fixture
def admin_user(seeded):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def sign_in(client, username, password, url=LOGIN):
    return client.post(url, {"username": username, "password": password})


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN], ids=["site", "admin"])
def test_after_100_wrong_passwords_the_right_one_does_not_sign_in(url, pia, admin_user):
    username = admin_user.username if url == ADMIN_LOGIN else pia.username
    client = Client()
    for attempt in range(100):
        sign_in(client, username, f"wrong-{attempt}", url)

    response = sign_in(client, username, PASSWORD, url)

    assert response.status_code == 429
    assert not is_signed_in(client)


def test_the_lockout_page_says_in_swedish_what_happened_and_what_to_do(pia, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, "pia", "wrong")

    page = response.content.decode()
    assert response.status_code == 429
    assert "<title>Inloggningen är spärrad – PolicyFlow</title>" in page
    assert "Försök igen om 15 minuter" in page
    assert "administratör" in page
    assert 'class="site-header"' in page and 'class="site-footer"' in page  # the site's layout
    assert "no-store" in response["Cache-Control"]


def test_fewer_failures_than_the_limit_do_not_lock(pia, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _attempt in range(2):
        sign_in(client, "pia", "wrong")

    sign_in(client, "pia", PASSWORD)

    assert is_signed_in(client)


def test_the_lock_ends_after_the_cool_off_time(pia, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=10)
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(3):
            sign_in(client, "pia", "wrong")
        assert sign_in(client, "pia", PASSWORD).status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=9), tick=False):
        assert sign_in(client, "pia", PASSWORD).status_code == 429
    # The refused attempt at minute 9 started the wait again.
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        sign_in(client, "pia", PASSWORD)
    assert is_signed_in(client)


def test_the_lock_is_by_account_name_so_other_people_still_sign_in(pia, admin_user, settings):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pia", "wrong")

    sign_in(client, "ada", PASSWORD)

    assert is_signed_in(client)


def test_each_lockout_of_an_account_is_one_audit_event_naming_it_on_the_timeline(
    pia, admin_user, settings
):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 10):
        sign_in(client, "pia", "wrong")

    events = list(AuditEvent.objects.filter(kind=Kind.SIGNIN_LOCKED))
    assert len(events) == 1
    assert events[0].object_id == str(pia.pk)
    # The account name is in the personal part only, not in the hashed texts.
    assert "pia" not in events[0].summary
    reader = Client()
    reader.force_login(admin_user)
    page = reader.get(reverse("audit:timeline")).content.decode()
    assert (
        f"Inloggning med kontonamnet ”pia” spärrad efter {settings.AXES_FAILURE_LIMIT} "
        "misslyckade försök" in page
    )


def test_a_lockout_of_a_name_that_is_no_account_writes_nothing_on_the_audit_trail(pia, settings):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        response = sign_in(client, "anna.svensson@example.se", "wrong")

    assert response.status_code == 429  # still locked, by axes alone
    assert not AuditEvent.objects.filter(kind=Kind.SIGNIN_LOCKED).exists()
    assert not AuditEvent.objects.filter(summary__contains="anna.svensson").exists()


def test_an_administrator_lifts_a_lock_with_axes_reset_username(pia, settings):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pia", "wrong")
    assert sign_in(client, "pia", PASSWORD).status_code == 429

    call_command("axes_reset_username", "pia", stdout=io.StringIO())

    sign_in(client, "pia", PASSWORD)
    assert is_signed_in(client)


def test_an_administrator_sees_and_lifts_a_lock_in_the_admin(pia, admin_user, settings):
    from axes.models import AccessAttempt

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "pia", "wrong")
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "pia" in listing.content.decode()

    attempt = AccessAttempt.objects.get(username="pia")
    admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    client = Client()
    sign_in(client, "pia", PASSWORD)
    assert is_signed_in(client)


def test_the_limit_and_the_cool_off_come_from_the_environment(production_env):
    production_env.update(AXES_FAILURE_LIMIT="7", AXES_COOLOFF_MINUTES="45")
    script = textwrap.dedent(
        """
        import json
        import django
        django.setup()
        from axes.helpers import get_cool_off
        from django.conf import settings
        print(json.dumps([settings.AXES_FAILURE_LIMIT, get_cool_off().total_seconds()]))
        """
    )
    result = run(["-c", script], production_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [7, 45 * 60]
