"""Permissions are read in one statement (policyflow.auth_backends) and are exactly Django's."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policyflow.auth_backends import OneQueryModelBackend
from tests.factories import UserFactory
from workflows.seeding import PROJECT_LEADERS, STEERING_GROUP

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it (no permissions remembered)."""
    return get_user_model().objects.get(pk=user.pk)


def test_own_and_group_permissions_are_djangos_in_one_query(seeded):
    user = UserFactory(username="blandad")
    user.groups.add(Group.objects.get(name=STEERING_GROUP))
    user.user_permissions.add(Permission.objects.get(codename="add_meeting"))

    loaded = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        ours = OneQueryModelBackend().get_all_permissions(loaded)

    assert len(captured) == 1
    assert ours == ModelBackend().get_all_permissions(fresh(user))
    assert "workflows.follow_policyprocess" in ours and "workflows.add_meeting" in ours


@pytest.mark.parametrize("kind", ["superuser", "inactive", "nothing"])
def test_superusers_inactive_users_and_users_without_permissions_as_django(seeded, kind):
    user = UserFactory(
        username=kind, is_superuser=kind == "superuser", is_active=kind != "inactive"
    )
    if kind == "inactive":
        user.groups.add(Group.objects.get(name=PROJECT_LEADERS))

    ours = OneQueryModelBackend().get_all_permissions(fresh(user))

    assert ours == ModelBackend().get_all_permissions(fresh(user))
    assert bool(ours) == (kind == "superuser")


def test_a_permission_taken_away_applies_at_the_next_request(seeded):
    reader = UserFactory(username="tillfallig")
    reader.groups.add(Group.objects.get(name=STEERING_GROUP))
    browser = Client()
    browser.force_login(reader)
    overview = reverse("workflows:overview")
    browser.get(overview)  # gives the browser its CSRF cookie
    browser.get(overview)  # rendered and kept
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(overview).status_code == 200
    assert len(captured) == 4  # served from the page cache: session, user, permissions, version

    reader.groups.clear()

    assert browser.get(overview).status_code == 403
