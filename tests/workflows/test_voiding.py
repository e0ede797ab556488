"""A mistaken draft, meeting or decision is voided with a reason, never deleted."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent, Kind
from workflows import services
from workflows.models import Decision, Meeting, PolicyDraft
from workflows.voiding import void_record

from .helpers import decision_fields, english, walk_to  # noqa: F401 (english: a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def drafted(leader, vaxjo, vaxjo_contact):
    """A process with one draft, back at the draft step (the contact asked for changes): the
    draft may be voided, a new version can follow."""
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "approval")
    services.answer_approval(
        task=task, contact=vaxjo_contact, answer="changes_requested", comment="Fel mall."
    )
    return process


def test_voiding_a_draft_keeps_it_and_records_who_when_and_why(drafted, leader):
    draft = drafted.drafts.get()
    voided = void_record(record=draft, user=leader, reason="Fel mall användes.")
    draft.refresh_from_db()
    assert draft.is_voided and draft.voided_reason == "Fel mall användes."
    assert draft.voided_by == leader and draft.voided_at is not None
    assert voided.pk == draft.pk and PolicyDraft.objects.filter(pk=draft.pk).exists()
    latest = draft.history.first()
    assert latest.is_voided and latest.history_user == leader
    assert "Fel mall användes." in latest.history_change_reason
    event = AuditEvent.objects.get(kind=Kind.RECORD_VOIDED, object_id=str(draft.pk))
    assert event.summary == "Draft version 1 voided" and event.actor_user == leader


def test_voiding_a_meeting_and_a_decision(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "decision")
    decision = services.record_decision(task=task, user=leader, **decision_fields("sent_back"))
    meeting = process.meetings.get()
    void_record(record=meeting, user=leader, reason="Mötet ställdes in.")
    void_record(record=decision, user=leader, reason="Fel paragraf.")
    assert Meeting.objects.get(pk=meeting.pk).is_voided
    assert Decision.objects.get(pk=decision.pk).is_voided
    assert AuditEvent.objects.filter(kind=Kind.RECORD_VOIDED, process_id=process.pk).count() == 2


def test_a_reason_is_required_and_a_record_is_voided_once(drafted, leader):
    draft = drafted.drafts.get()
    with pytest.raises(ValidationError):
        void_record(record=draft, user=leader, reason="  ")
    void_record(record=draft, user=leader, reason="Fel.")
    with pytest.raises(ValidationError):
        void_record(record=draft, user=leader, reason="Igen.")


def test_only_a_project_leader_voids(drafted, steering):
    with pytest.raises(PermissionDenied):
        void_record(record=drafted.drafts.get(), user=steering, reason="Fel.")
    assert not drafted.drafts.get().is_voided


def test_the_database_refuses_a_void_without_its_reason(drafted):
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyDraft.objects.filter(process=drafted).update(is_voided=True)


def test_project_leader_voids_through_the_form(drafted, leader_client):
    draft = drafted.drafts.get()
    url = reverse("workflows:void_record", args=[drafted.pk, "draft", draft.pk])
    page = leader_client.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert not PolicyDraft.objects.get(pk=draft.pk).is_voided  # a GET changes nothing
    response = leader_client.post(url, {"reason": ""})
    assert response.status_code == 400
    response = leader_client.post(url, {"reason": "Skickades till fel kommun."})
    assert response.status_code == 302 and response.url == reverse(
        "workflows:process", args=[drafted.pk]
    )
    assert PolicyDraft.objects.get(pk=draft.pk).voided_reason == "Skickades till fel kommun."


def test_void_page_is_refused_to_the_steering_group_and_unknown_records(drafted, client, steering):
    draft = drafted.drafts.get()
    client.force_login(steering)
    url = reverse("workflows:void_record", args=[drafted.pk, "draft", draft.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403
    assert not PolicyDraft.objects.get(pk=draft.pk).is_voided


def test_void_url_for_another_process_or_kind_is_404(drafted, leader_client, leader, vaxjo):
    draft = drafted.drafts.get()
    url = reverse("workflows:void_record", args=[drafted.pk + 1000, "draft", draft.pk])
    assert leader_client.post(url, {"reason": "x"}).status_code == 404
    url = reverse("workflows:void_record", args=[drafted.pk, "answer", draft.pk])
    assert leader_client.post(url, {"reason": "x"}).status_code == 404


def test_a_draft_out_for_approval_cannot_be_voided_so_no_contact_approves_a_voided_draft(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "approval")
    draft = process.drafts.get()

    with pytest.raises(ValidationError, match="out for approval"):
        void_record(record=draft, user=leader, reason="Fel version skickad.")

    draft.refresh_from_db()
    assert not draft.is_voided


def test_the_draft_to_send_cannot_be_voided_so_the_process_never_gets_stuck(
    leader, vaxjo, vaxjo_contact
):
    """Only the draft step writes a new version: a voided draft waiting to be sent would leave
    the request-approval step with nothing it may send."""
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    draft = process.drafts.get()

    with pytest.raises(ValidationError, match="the one to send for approval"):
        void_record(record=draft, user=leader, reason="Fel mall.")

    draft.refresh_from_db()
    assert not draft.is_voided
    (issued,) = services.request_approval(task=task, user=leader, approvers=[vaxjo_contact])
    assert issued.link.draft == draft


def test_a_voided_draft_is_followed_by_a_new_version_which_is_sent(drafted, leader, vaxjo_contact):
    void_record(record=drafted.drafts.get(), user=leader, reason="Fel mall.")

    task = walk_to(drafted, leader, vaxjo_contact, "request_approval")
    (issued,) = services.request_approval(task=task, user=leader, approvers=[vaxjo_contact])

    assert issued.link.draft.version == 2 and not issued.link.draft.is_voided
