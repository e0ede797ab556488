"""Queueing: the outbox row is written in the caller's transaction, rendered in the recipient's
language, once per idempotency key."""

import threading

import pytest
from django.db import connection, transaction
from django.utils.html import escape

from notifications.events import EVENTS
from notifications.models import DeliveryStatus, Event, Notification
from notifications.outbox import queue_notification
from notifications.rendering import render_notification
from tests.notifications.helpers import approval_context, deliveries, queue_approval_request
from tests.support.locks import LOCK_WAIT_TIMEOUT, hold_then_wait

pytestmark = pytest.mark.django_db


def test_queued_notification_holds_the_rendered_email_in_the_recipients_language():
    swedish = queue_approval_request(1, language="sv")
    english = queue_approval_request(2, language="en")

    assert swedish.status == DeliveryStatus.QUEUED
    assert 'lang="sv"' in swedish.body_html
    assert "24 december 2026" in swedish.body_text  # Swedish date format and month name
    assert english.subject == "Please review the draft ASF policy for Växjö"
    assert 'lang="en"' in english.body_html
    assert "24 Dec 2026" in english.body_text
    for notification in (swedish, english):
        assert "http://127.0.0.1:8000/link/token" in notification.body_text
        assert 'href="http://127.0.0.1:8000/link/token' in notification.body_html


def test_language_defaults_to_swedish():
    notification = queue_approval_request(language="")

    assert notification.language == "sv"
    assert 'lang="sv"' in notification.body_html


def test_queueing_the_same_key_twice_returns_the_first_row_and_schedules_one_delivery(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = queue_approval_request(7)
        second = queue_approval_request(7)

    assert second.pk == first.pk
    assert Notification.objects.count() == 1
    assert len(deliveries(callbacks)) == 1


def test_same_occurrence_to_two_recipients_is_two_notifications():
    queue_approval_request(7, email="a@vaxjo.example")
    queue_approval_request(7, email="b@vaxjo.example")

    assert Notification.objects.count() == 2


def test_a_rolled_back_step_leaves_no_notification_behind(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_approval_request(3)
        raise RuntimeError("the step failed")

    assert Notification.objects.count() == 0
    assert callbacks == []


def test_missing_context_is_refused_before_anything_is_stored():
    context = approval_context()
    del context["task_url"]

    with pytest.raises(ValueError, match="task_url"):
        queue_notification(
            event=Event.APPROVAL_REQUESTED,
            recipient_email="vera@vaxjo.example",
            recipient_name="Vera",
            language="sv",
            context=context,
            key="task:1",
            topic="process:1",
        )
    assert Notification.objects.count() == 0


def test_unknown_event_or_language_is_refused():
    with pytest.raises(ValueError):
        queue_notification(
            event="birthday",
            recipient_email="vera@vaxjo.example",
            recipient_name="Vera",
            language="sv",
            context={},
            key="k",
            topic="t",
        )
    with pytest.raises(ValueError, match="language"):
        queue_approval_request(language="de")


SAMPLE_CONTEXT = {
    "municipality": "Växjö",
    "task_title": "Write the draft",
    "task_url": "/tasks/3/",
    "draft_version": 2,
    "link_expires": approval_context()["link_expires"],
    "sender_name": "Pia",
    "requested_on": approval_context()["link_expires"],
    "contact_name": "Vera",
    "approved": False,
    "comment": "Please add a section on IOP <and> reserved contracts.",
    "process_url": "/processes/1/",
    "body": "KF",
    "meeting_date": approval_context()["link_expires"],
    "paragraph": "123",
    "case_number": "KS 2025/39",
    "outcome": "Adopted",
    "stage": "Draft",
    "days_in_stage": 40,
    "stage_limit_days": 21,
    "stalled": [
        {
            "municipality": "Växjö",
            "stage": "Draft",
            "days_in_stage": 40,
            "stage_limit_days": 21,
            "process_url": "/processes/1/",
        }
    ],
    "week": "2026-W48",
    "overview_url": "/processes/",
    "by_name": "Pia Projektledare",
    # A hand-over's items (municipality, title) and a digest's (subject), in one list.
    "items": [
        {
            "municipality": "Växjö",
            "title": "Skriv utkastet",
            "subject": "Nytt steg i PolicyFlow: Skriv utkastet (Växjö)",
            "item_url": "/tasks/3/",
        }
    ],
    "day": approval_context()["link_expires"],
    "inbox_url": "/tasks/",
}


@pytest.mark.parametrize("event", Event.values)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_event_renders_subject_text_and_accessible_html(event, language):
    context = {key: SAMPLE_CONTEXT[key] for key in EVENTS[event].required}

    subject, text, html = render_notification(
        event=event, language=language, recipient_name="Vera", context=context
    )

    assert subject and "\n" not in subject
    assert "Vera" in text
    assert f'<html lang="{language}"' in html
    assert f"<title>{escape(subject)}</title>" in html
    assert "<h1" in html
    assert "http://127.0.0.1:8000/" in text and 'href="http://127.0.0.1:8000/' in html
    assert "<and>" not in html  # user text is escaped in HTML


@pytest.mark.django_db(transaction=True)
def test_two_transactions_queueing_the_same_key_at_once_store_one_row_and_both_commit():
    """The unique key decides: the second's INSERT waits for the first to commit, fails on the
    key inside its own savepoint and returns the first's row; the second step still commits."""
    first_queued, release = threading.Event(), threading.Event()
    results, failures = {}, []

    def first():
        try:
            with transaction.atomic():
                results["first"] = queue_approval_request(9).pk
                first_queued.set()
                release.wait(timeout=LOCK_WAIT_TIMEOUT)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            failures.append(error)
        finally:
            connection.close()

    def second():
        try:
            with transaction.atomic():
                results["second"] = queue_approval_request(9).pk
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            failures.append(error)
        finally:
            connection.close()

    # The first commits only once the second is seen blocked on the key.
    hold_then_wait(first, second, holding=first_queued, release=release)

    assert failures == []
    assert results["first"] == results["second"]
    assert Notification.objects.count() == 1
