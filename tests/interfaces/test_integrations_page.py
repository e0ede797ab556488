"""The integrations page: a user creates a token (shown once), revokes it, and gets, copies and
renews the calendar address; an administrator creates a token for someone else."""

import pytest
from django.contrib.auth.models import Permission

from interfaces import services
from interfaces.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_is_shown_once_and_revoked_from_the_page(client, leader):
    client.force_login(leader)

    response = client.post("/integrations/tokens/", {"name": "Regionens BI"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ditt nya token ”Regionens BI”" in page
    token = ApiToken.objects.get(user=leader)
    key = page.split('id="new-token-key" value="')[1].split('"')[0]
    assert key.startswith(token.prefix)
    assert key not in client.get("/integrations/").content.decode()
    assert client.get("/api/v1/processes/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    response = client.post(f"/integrations/tokens/{token.pk}/revoke/", follow=True)

    assert "Token ”Regionens BI” fungerar inte längre." in response.content.decode()
    assert client.get("/api/v1/processes/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_a_nameless_token_is_refused_with_a_message(client, leader):
    client.force_login(leader)

    response = client.post("/integrations/tokens/", {"name": "  "})

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_users_cannot_revoke_each_others_tokens(client, leader, steering):
    token, _key = services.create_api_token(user=steering, name="Sven's", actor=steering)
    client.force_login(leader)

    assert client.post(f"/integrations/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).is_active
    assert "Sven's" not in client.get("/integrations/").content.decode()


def test_administrator_creates_a_token_for_another_user(client, leader):
    admin = UserFactory(username="ada", is_staff=True)
    admin.user_permissions.add(
        Permission.objects.get(codename="manage_api_tokens"),
        Permission.objects.get(codename="view_policyprocess"),
    )
    client.force_login(admin)

    response = client.post("/integrations/tokens/", {"name": "Åt Pia", "user": leader.pk})

    assert response.status_code == 200
    token = ApiToken.objects.get(name="Åt Pia")
    assert (token.user, token.created_by) == (leader, admin)


def test_leader_gets_and_renews_the_calendar_address(client, leader):
    client.force_login(leader)
    assert "Skapa min kalenderadress" in client.get("/integrations/").content.decode()

    client.post("/integrations/calendar/")
    first = services.live_feed(leader)
    page = client.get("/integrations/").content.decode()
    assert services.feed_token(first) in page

    response = client.post("/integrations/calendar/", follow=True)

    second = services.live_feed(leader)
    assert second.pk != first.pk
    assert services.feed_token(second) in response.content.decode()
    assert client.get(f"/calendar/{services.feed_token(first)}.ics").status_code == 404


def test_mutations_are_post_only_and_need_a_sign_in(client, leader):
    assert client.get("/integrations/")["Location"].startswith("/accounts/login/")
    client.force_login(leader)
    assert client.get("/integrations/calendar/").status_code == 405
    assert client.get("/integrations/tokens/").status_code == 405


def test_administrator_revokes_tokens_in_the_admin_through_the_service(client, leader):
    from audit.models import AuditEvent

    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    token, key = services.create_api_token(user=leader, name="Gammal export", actor=leader)
    client.force_login(admin)
    assert client.get("/admin/interfaces/apitoken/").status_code == 200

    client.post(
        "/admin/interfaces/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked_by == admin
    assert AuditEvent.objects.filter(
        model_label="interfaces.apitoken", actor_user=admin, summary__contains="återkallat"
    ).exists()
