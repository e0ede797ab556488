"""Pages for signed-in people are kept by no cache, and the language cookie is as private as the
session's (policyflow.middleware, the cookie settings)."""

import json
import textwrap

import pytest
from django.urls import reverse

from tests.workflows.helpers import current_task, walk_to
from workflows import services

from .test_production_settings import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def process(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    return process


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def test_every_page_a_signed_in_leader_sees_is_private_and_never_stored(leader_client, process):
    urls = [
        reverse("home"),
        reverse("workflows:inbox"),
        reverse("workflows:processes"),
        reverse("workflows:process", args=[process.pk]),
        reverse("workflows:draft", args=[process.pk, 1]),
        reverse("workflows:step", args=[current_task(process).pk]),
        reverse("workflows:overview"),
        reverse("workflows:overview_municipality", args=[process.municipality.code]),
        reverse("audit:timeline"),
        reverse("audit:process_csv", args=[process.pk]),
        reverse("notifications:log"),
        reverse("accessibility"),
    ]
    for url in urls:
        for _attempt in range(2):  # the second one comes from the page cache
            response = leader_client.get(url)
            assert response.status_code in (200, 302), url
            assert {"private", "no-store"} <= directives(response), (url, response["Cache-Control"])


def test_a_refused_post_to_a_signed_in_user_is_not_stored_either(leader_client, process):
    response = leader_client.post(reverse("workflows:add_meeting", args=[process.pk]), {})
    assert {"private", "no-store"} <= directives(response)


def test_an_overview_chart_keeps_its_own_browser_lifetime(leader_client, process):
    chart = leader_client.get(reverse("workflows:overview_chart", args=["progress"]) + "?v=1")
    assert "private" in directives(chart)
    assert "no-store" not in directives(chart)
    assert any(part.startswith("max-age=") for part in directives(chart))


def test_the_anonymous_sign_in_page_is_not_made_private_by_the_middleware(client):
    # Django's LoginView sends its own no-cache headers; the middleware leaves them.
    response = client.get(reverse("login"))
    assert "no-store" in directives(response)


def test_the_language_cookie_is_secure_httponly_and_same_site_in_production(production_env):
    script = textwrap.dedent(
        """
        import json
        import django
        django.setup()
        from django.test import Client
        response = Client().post(
            "/i18n/setlang/",
            {"language": "en", "next": "/"},
            secure=True,
            HTTP_HOST="policyflow.example.se",
        )
        cookie = response.cookies["django_language"]
        print(json.dumps({
            "status": response.status_code,
            "secure": bool(cookie["secure"]),
            "httponly": bool(cookie["httponly"]),
            "samesite": cookie["samesite"],
        }))
        """
    )
    result = run(["-c", script], production_env)
    assert result.returncode == 0, result.stderr
    cookie = json.loads(result.stdout.strip().splitlines()[-1])
    assert cookie == {"status": 302, "secure": True, "httponly": True, "samesite": "Lax"}
