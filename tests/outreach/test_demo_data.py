"""`make run`'s demo data shows the first two aims and the follow-up: activities, the
collaboration organisation with members, meetings and milestones."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from network.models import Organisation
from outreach.models import Activity

pytestmark = pytest.mark.django_db


def test_the_demo_shows_activities_and_the_collaboration_organisation(client, seeded):
    call_command("seed_kronoberg", "--demo", stdout=io.StringIO())
    call_command("seed_kronoberg", "--demo", stdout=io.StringIO())  # idempotent
    assert Activity.objects.filter(county__code="07").count() == 6
    organisation = Organisation.objects.get(county__code="07")
    assert organisation.members.count() == 4
    assert organisation.meetings.count() == 3
    assert organisation.milestones.count() == 3

    client.force_login(get_user_model().objects.get(username="styrgrupp"))
    activities = client.get(reverse("outreach:activities")).content.decode()
    assert "Studiebesök på Återbruket i Växjö" in activities
    network = client.get(reverse("network:organisation")).content.decode()
    assert "Samverkan för ASF i Kronoberg" in network
    assert "Avtal med Coompanion" in network
    follow_up = client.get(reverse("followup:page"), {"period": "2026"})
    assert follow_up.status_code == 200
    assert "5 aktiviteter nådde" in follow_up.content.decode()  # one was in 2025
