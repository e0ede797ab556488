"""Permissions come from Django's ModelBackend (after axes' lock-out check), through the cache of
`municipalities.access` between requests: a permission taken away applies at once, with no
sign-out. (These tests run in a transaction, where the database answers: the cache itself is
tested in tests/municipalities/test_access.py.)"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from municipalities.models import CountyProject
from municipalities.services import end_membership
from tests.factories import UserFactory, member_of

pytestmark = pytest.mark.django_db


def test_a_permission_taken_away_applies_at_the_next_request(seeded):
    reader = UserFactory(username="tillfallig")
    member_of(reader, "07", "steering")
    browser = Client()
    browser.force_login(reader)
    overview = reverse("workflows:overview")
    browser.get(overview)  # gives the browser its CSRF cookie
    browser.get(overview)  # rendered and kept
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(overview).status_code == 200
    # Served from the page cache: session, user, own and group permissions, the reader's county
    # roles (the counties whose writes the page's version counts), version. (Inside a test's
    # transaction permissions and roles are read from the database, not the cache.)
    assert len(captured) == 6

    end_membership(user=reader, project=CountyProject.objects.get(county__code="07"))

    assert browser.get(overview).status_code == 403


def test_a_person_signs_in_with_the_login_form_and_reaches_their_pages(seeded):
    reader = UserFactory(username="styrgrupp")
    reader.set_password("ett långt lösenord")
    reader.save()
    member_of(reader, "07", "steering")
    browser = Client()

    response = browser.post(
        reverse("login"), {"username": "styrgrupp", "password": "ett långt lösenord"}
    )

    assert response.status_code == 302
    assert browser.get(reverse("workflows:overview")).status_code == 200
