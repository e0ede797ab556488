"""Error pages are PolicyFlow's own, in Swedish: a refused form says nothing was saved."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from workflows.models import PolicyProcess

pytestmark = pytest.mark.django_db


def test_a_form_refused_by_the_csrf_check_says_in_swedish_that_nothing_was_saved(leader, vaxjo):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="sv")
    browser.force_login(leader)

    response = browser.post(reverse("workflows:start"), {"municipality": vaxjo.pk})

    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="sv">' in page
    assert "Formuläret kunde inte skickas" in page and "Ingenting sparades" in page
    assert reverse("accessibility") in page
    assert not PolicyProcess.objects.exists()


def test_an_unknown_address_gets_a_swedish_page_with_a_way_back(leader_client):
    response = leader_client.get("/finns-inte/", HTTP_ACCEPT_LANGUAGE="sv")

    assert response.status_code == 404
    page = response.content.decode()
    assert "Sidan finns inte" in page and 'href="/"' in page


def test_a_forbidden_page_explains_who_to_ask(steering):
    browser = Client(HTTP_ACCEPT_LANGUAGE="sv")
    browser.force_login(steering)

    response = browser.get(reverse("workflows:start"))

    assert response.status_code == 403
    assert "Ditt konto får inte se eller ändra det här" in response.content.decode()


def test_the_server_error_page_renders_without_a_request_context():
    request = RequestFactory().get("/")
    with translation.override("sv"):
        response = server_error(request)

    assert response.status_code == 500
    page = response.content.decode()
    assert "Något gick fel" in page and "Inget halvfärdigt sparades" in page
    assert reverse("accessibility") in page
