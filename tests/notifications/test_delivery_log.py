"""The delivery log page: who may see it and retry, filters, a bounded number of queries."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications import outbox
from notifications.models import DeliveryStatus, Notification
from tests.factories import UserFactory
from tests.notifications.helpers import deliveries, queue_approval_request

pytestmark = pytest.mark.django_db

LOG_URL = reverse("notifications:log")


def _user_with(*codenames):
    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="notifications", codename__in=codenames)
    )
    return user


def _fail(notification, error="SMTPDataError: 451 4.3.0 Try again later"):
    Notification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.FAILED, attempts=5, last_error=error
    )
    notification.refresh_from_db()
    return notification


@pytest.fixture
def project_leader(client):
    client.force_login(_user_with("view_delivery_log", "retry_notification"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's choice
    return client


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(LOG_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_users_without_the_permission_get_403(client):
    client.force_login(UserFactory())

    assert client.get(LOG_URL).status_code == 403


def test_the_log_lists_status_attempts_and_error_per_topic_and_overall(project_leader):
    sent = queue_approval_request(1, topic="process:1")
    Notification.objects.filter(pk=sent.pk).update(
        status=DeliveryStatus.SENT, attempts=1, sent_at=timezone.now()
    )
    failed = _fail(queue_approval_request(2, topic="process:1"))
    other = queue_approval_request(3, topic="process:2")

    overall = project_leader.get(LOG_URL).content.decode()
    per_process = project_leader.get(LOG_URL, {"topic": "process:1"}).content.decode()
    only_failed = project_leader.get(LOG_URL, {"status": "failed"}).content.decode()

    for notification in (sent, failed, other):
        assert f'id="notification-{notification.pk}"' in overall
    assert f'id="notification-{other.pk}"' not in per_process
    assert f'id="notification-{failed.pk}"' in per_process
    assert "Delivery log: process:1" in per_process
    assert "451 4.3.0 Try again later" in only_failed
    assert "after 5 tries" in only_failed
    assert f'id="notification-{sent.pk}"' not in only_failed
    assert reverse("notifications:retry", args=[failed.pk]) in only_failed


def test_paging_keeps_the_filters(project_leader):
    for n in range(51):
        queue_approval_request(n, topic="process:7")

    html = project_leader.get(LOG_URL, {"topic": "process:7"}).content.decode()

    assert 'href="?topic=process%3A7&amp;page=2"' in html


def test_log_page_runs_the_same_number_of_queries_for_1_and_50_rows(project_leader):
    queue_approval_request(0)
    with CaptureQueriesContext(connection) as one:
        assert project_leader.get(LOG_URL).status_code == 200
    for n in range(1, 50):
        _fail(queue_approval_request(n))
    with CaptureQueriesContext(connection) as fifty:
        response = project_leader.get(LOG_URL)

    assert len(response.context["page"].object_list) == 50
    assert len(fifty) == len(one)


def test_retry_needs_the_retry_permission(client):
    notification = _fail(queue_approval_request(1))
    client.force_login(_user_with("view_delivery_log"))

    response = client.post(reverse("notifications:retry", args=[notification.pk]))

    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.FAILED


def test_retry_is_post_only(project_leader):
    notification = _fail(queue_approval_request(1))

    response = project_leader.get(reverse("notifications:retry", args=[notification.pk]))

    assert response.status_code == 405


def test_retry_queues_a_failed_notification_again(
    project_leader, django_capture_on_commit_callbacks
):
    notification = _fail(queue_approval_request(1))

    with django_capture_on_commit_callbacks() as callbacks:
        response = project_leader.post(
            reverse("notifications:retry", args=[notification.pk]),
            {"next": f"{LOG_URL}?status=failed"},
        )

    assert response.status_code == 302
    assert response.url == f"{LOG_URL}?status=failed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (DeliveryStatus.QUEUED, 0)
    assert len(deliveries(callbacks)) == 1  # the delivery is enqueued after the commit


def test_only_failed_notifications_can_be_retried(project_leader):
    notification = queue_approval_request(1)

    response = project_leader.post(reverse("notifications:retry", args=[notification.pk]))

    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.QUEUED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Only a failed notification can be retried."]


def test_retry_redirects_only_to_this_site(project_leader):
    notification = _fail(queue_approval_request(1))

    response = project_leader.post(
        reverse("notifications:retry", args=[notification.pk]),
        {"next": "https://evil.example/"},
    )

    assert response.url == LOG_URL


def test_retry_service_refuses_users_without_the_permission():
    notification = _fail(queue_approval_request(1))

    with pytest.raises(PermissionDenied):
        outbox.retry_notification(notification=notification, user=UserFactory())
