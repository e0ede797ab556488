"""A record in two counties: Växjö (Kronoberg, 07) with an adopted decision, a meeting and a
contact person, and Kalmar (08) with its own decision; the personas of both counties."""

import datetime

import pytest
from django.utils import timezone

from municipalities.models import Municipality
from tests.factories import ContactFactory, UserFactory
from tests.workflows.helpers import current_task, decision_fields, walk_to
from workflows import services

CONTACT_NAME = "Vera Växjö"


@pytest.fixture
def record(leader, kalmar_leader, vaxjo, vaxjo_contact):
    """Växjö adopted (KF § 57, KS 2026/39, a meeting 'Möte' in February); Kalmar too."""
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    decision = services.record_decision(
        task=current_task(process), user=leader, **decision_fields()
    )
    kalmar = Municipality.objects.get(code="0880")
    kalmar_contact = ContactFactory(municipality=kalmar, name="Kalle Kalmarkontakt")
    kalmar_process = services.start_process(municipality=kalmar, user=kalmar_leader)
    walk_to(kalmar_process, kalmar_leader, kalmar_contact, "decision")
    services.record_decision(
        task=current_task(kalmar_process),
        user=kalmar_leader,
        **{**decision_fields(), "case_number": "KS 2026/80"},
    )
    return {"vaxjo": process, "decision": decision, "kalmar": kalmar_process}


@pytest.fixture
def upcoming_meeting(record, leader):
    """A dialogue meeting next week with Ljungby (Kronoberg), in dialogue with the project."""
    ljungby = Municipality.objects.get(code="0781")
    contact = ContactFactory(municipality=ljungby, name="Lars Ljungby")
    process = services.start_process(municipality=ljungby, user=leader)
    walk_to(process, leader, contact, "dialogue")
    return services.record_meeting(
        process=process,
        user=leader,
        held_on=timezone.localdate() + datetime.timedelta(days=7),
        participants="Lars Ljungby, näringslivschef",
        notes="Uppföljning",
    )


@pytest.fixture
def outsider(seeded):
    """Signed in, but no role in any county."""
    return UserFactory(username="olle", first_name="Olle", last_name="Utanför")
