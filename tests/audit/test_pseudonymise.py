"""An administrator pseudonymises a contact who has left: the name and email disappear from the
live data, the history and the audit trail, and the chain still verifies."""

import datetime
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit import services, upstream
from audit.models import AuditEvent, Kind
from audit.personal import expand
from audit.verification import verify_chain
from municipalities.models import Contact
from notifications.models import Notification
from notifications.outbox import queue_notification
from tests.audit.conftest import meeting_in_the_next_process
from tests.factories import ContactFactory
from workflows import services as workflow_services
from workflows.models import ApprovalAnswer, TaskLink

pytestmark = pytest.mark.django_db


def tables_mentioning(*texts, any_case: bool = False) -> list[str]:
    """Every table, live or history, whose text columns still hold one of ``texts`` (in any
    letter case with ``any_case``)."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.db_table not in connection.introspection.table_names():
                continue
            columns = [
                f.column
                for f in model._meta.local_concrete_fields
                if f.get_internal_type() in ("CharField", "TextField", "EmailField", "JSONField")
            ]
            for column in columns:
                for text in texts:
                    # Fixed identifiers from the model registry.
                    cursor.execute(
                        f"SELECT count(*) FROM {model._meta.db_table} "  # noqa: S608
                        f"WHERE CAST({column} AS text) {'ILIKE' if any_case else 'LIKE'} %s",
                        [f"%{text}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append(f"{model._meta.db_table}.{column}")
    return found


def pseudonymise(story, admin_user):
    return services.pseudonymise_person(
        person=story.contact, user=admin_user, reason="Har slutat i kommunen."
    )


def test_pseudonymising_removes_the_name_and_email_everywhere(vaxjo_story, admin_user):
    before = tables_mentioning("Vera Växjö", "vera@vaxjo.example")
    assert "municipalities_historicalcontact.name" in before
    assert "audit_auditevent.personal" in before
    assert "workflows_historicaltasklink.history_change_reason" in before
    assert "notifications_notification.recipient_email" in before

    result = pseudonymise(vaxjo_story, admin_user)

    assert tables_mentioning("Vera Växjö", "vera@vaxjo.example", "Vera") == []
    contact = Contact.objects.get(pk=vaxjo_story.contact.pk)
    assert contact.name == f"Pseudonymised contact {contact.pk}"
    assert contact.email == f"pseudonymised-{contact.pk}@invalid.example"
    assert not contact.is_active
    assert {h.name for h in contact.history.all()} == {contact.name}
    assert result.events_rewritten >= 6
    to_contact = Notification.objects.filter(
        topic=f"process:{vaxjo_story.process.pk}", recipient_name=contact.name
    )
    assert to_contact and {n.recipient_email for n in to_contact} == {contact.email}


def test_pseudonymising_keeps_the_chain_verifiable(vaxjo_story, admin_user):
    call_command("verify_audit", stdout=io.StringIO())
    pseudonymise(vaxjo_story, admin_user)
    result = verify_chain()
    assert result.is_ok, result.first_problem
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_history_rows_rewritten_by_a_pseudonymisation_stay_bound(vaxjo_story, admin_user):
    """The pseudonymisation event lists each history row it rewrote with its new digest: the
    rewrite verifies, a later change to such a row does not."""

    result = pseudonymise(vaxjo_story, admin_user)
    rows = result.event.changes["rows"]
    contact_rows = [r for r in rows if r[0] == "municipalities.contact"]
    assert contact_rows and all(len(r[3]) == 64 and r[2] != r[3] for r in rows)
    assert verify_chain().is_ok

    history_id = contact_rows[0][1]
    with (
        upstream.ignoring_triggers("municipalities.HistoricalContact:append_only"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE municipalities_historicalcontact SET title = 'Forged' WHERE history_id = %s",
            [history_id],
        )
    problem = verify_chain().first_problem
    assert f"municipalities_historicalcontact #{history_id}" in problem and "altered" in problem


def test_the_record_still_reads_with_the_pseudonym(vaxjo_story, admin_user):
    pseudonymise(vaxjo_story, admin_user)
    answer = AuditEvent.objects.filter(
        kind=Kind.ANSWER_RECEIVED, process_id=vaxjo_story.process.pk
    ).first()
    pseudonym = f"Pseudonymised contact {vaxjo_story.contact.pk}"
    assert expand(answer.actor_label, answer.personal) == f"{pseudonym} (via task link)"
    assert answer.pseudonymised_at is not None
    event = AuditEvent.objects.get(kind=Kind.PERSON_PSEUDONYMISED)
    assert event.reason == "Har slutat i kommunen." and answer.pk in event.changes["events"]
    # The workflow's own records are untouched apart from the name.
    assert ApprovalAnswer.objects.filter(contact=vaxjo_story.contact).count() == 2
    assert TaskLink.objects.filter(contact=vaxjo_story.contact).count() == 2


def test_administrator_pseudonymises_through_the_page(vaxjo_story, admin_client):
    url = reverse("audit:person_pseudonymise", args=[vaxjo_story.contact.pk])
    response = admin_client.post(url, {"reason": "", "confirm": ""})
    assert response.status_code == 400
    assert Contact.objects.get(pk=vaxjo_story.contact.pk).name == "Vera Växjö"
    response = admin_client.post(url, {"reason": "Har slutat.", "confirm": "on"})
    assert response.status_code == 302
    assert Contact.objects.get(pk=vaxjo_story.contact.pk).name.startswith("Pseudonymised")
    assert admin_client.get(url).status_code == 405


def test_only_an_administrator_may_pseudonymise(vaxjo_story, leader):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.pseudonymise_person(person=vaxjo_story.contact, user=leader, reason="x")
    assert Contact.objects.get(pk=vaxjo_story.contact.pk).name == "Vera Växjö"


@pytest.mark.django_db(transaction=True)
def test_a_step_naming_the_person_while_pseudonymising_runs_is_pseudonymised_too(
    vaxjo_story, admin_user, leader
):
    import threading

    from django.db import transaction

    from tests.support.locks import LOCK_WAIT_TIMEOUT, hold_then_wait

    written, release = threading.Event(), threading.Event()
    failures = []

    # Växjö's next process (the first one is adopted): its meeting names the person.
    process = workflow_services.start_process(
        municipality=vaxjo_story.process.municipality, user=leader
    )

    def leader_records_a_meeting():
        try:
            with transaction.atomic():
                workflow_services.record_meeting(
                    process=process,
                    user=leader,
                    held_on=process.stage_entered_at.date(),
                    participants="Vera Växjö, vera@vaxjo.example",
                )
                written.set()
                release.wait(timeout=LOCK_WAIT_TIMEOUT)  # uncommitted while the admin starts
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)
        finally:
            connection.close()

    def administrator_pseudonymises():
        try:
            pseudonymise(vaxjo_story, admin_user)
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)
        finally:
            connection.close()

    # The meeting commits only once the pseudonymisation is seen waiting for its lock.
    hold_then_wait(
        leader_records_a_meeting, administrator_pseudonymises, holding=written, release=release
    )

    assert failures == []
    assert tables_mentioning("Vera Växjö", "vera@vaxjo.example") == []
    assert verify_chain().is_ok


def test_the_name_and_email_go_in_any_letter_case_and_as_html_too(vaxjo_story, admin_user):
    person = ContactFactory(
        municipality=vaxjo_story.process.municipality, name="Ove O'Brien", email="ove@vaxjo.example"
    )
    queue_notification(
        event="approval_reminder",
        recipient_email=person.email,
        recipient_name=person.name,
        language="sv",
        context={
            "municipality": "Växjö",
            "draft_version": 2,
            "task_url": "/l/x/",
            "link_expires": datetime.date(2026, 12, 24),
            "requested_on": datetime.date(2026, 12, 10),
        },
        key="reminder:ove",
        topic=f"process:{vaxjo_story.process.pk}",
    )
    meeting_in_the_next_process(
        vaxjo_story,
        participants="OVE O'BRIEN",
        notes="Skriv till OVE@VAXJO.EXAMPLE, ove o'brien svarar.",
    )
    assert "notifications_notification.body_html" in tables_mentioning("O&#x27;Brien")
    assert "workflows_meeting.participants" in tables_mentioning("OVE O'BRIEN")
    assert "workflows_meeting.notes" in tables_mentioning("OVE@VAXJO.EXAMPLE")
    assert "workflows_meeting.notes" in tables_mentioning("ove o'brien")

    services.pseudonymise_person(person=person, user=admin_user, reason="Har slutat.")

    assert tables_mentioning("O'Brien", "O&#x27;Brien", "ove@vaxjo", any_case=True) == []
    assert verify_chain().is_ok


def test_a_name_is_replaced_as_whole_words_in_any_case_and_an_email_anywhere():
    from audit.personal import replace_in

    replaced = replace_in(
        ["ANN LI kom, Johann Linde också; skriv till ann.li@x.example (Ann.Li@X.example)."],
        [("ann.li@x.example", "p@invalid.example"), ("Ann Li", "Pseudonym")],
    )

    assert replaced == [
        "Pseudonym kom, Johann Linde också; skriv till p@invalid.example (p@invalid.example)."
    ]
