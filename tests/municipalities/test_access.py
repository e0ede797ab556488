"""A user's permissions and county roles are kept in the cache (municipalities.access), and any
change of them applies at the next request: on the real Redis cache, with real commits
(transactional tests: a change is announced when it commits)."""

import logging

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from municipalities import access, scoping
from municipalities.models import County, CountyProject
from municipalities.services import end_membership, set_national_reader
from policyflow.cache import cache_config
from tests.factories import UserFactory, member_of
from tests.notifications.conftest import RedisServer
from workflows.services import start_process

pytestmark = pytest.mark.django_db(transaction=True)

OVERVIEW = reverse("workflows:overview")
TIMELINE = reverse("audit:timeline")


@pytest.fixture(autouse=True)
def _redis_cache(shared_cache, settings):
    assert settings.CACHES["default"]["BACKEND"] == "policyflow.cache.FailSafeRedisCache"


@pytest.fixture
def reader(seeded):
    return member_of(UserFactory(username="stina"), "07", "steering")


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def fresh(user):
    """The user as the next request loads it (nothing kept on the object)."""
    return get_user_model().objects.get(pk=user.pk)


def hit(browser, url: str) -> tuple[int, int]:
    """(status, queries) of ``url`` once the browser has its CSRF cookie and the page is kept."""
    browser.get(url)
    browser.get(url)
    with CaptureQueriesContext(connection) as captured:
        status = browser.get(url).status_code
    return status, len(captured)


def test_a_page_from_the_cache_reads_no_permissions_or_roles_from_the_database(reader):
    browser = signed_in(reader)
    # The session, the user and the data version: as the minimal page, plus the version.
    assert hit(browser, OVERVIEW) == (200, 3)
    assert hit(browser, TIMELINE) == (200, 3)


def test_a_process_page_from_the_cache_checks_only_the_process_county(leader, kalmar_leader, vaxjo):
    process = start_process(municipality=vaxjo, user=leader)
    page = reverse("workflows:process", args=[process.pk])
    # The session, the user and the data version: the process's county (the access check) is
    # kept with the county structure's version, as the roles are.
    assert hit(signed_in(leader), page) == (200, 3)
    assert hit(signed_in(kalmar_leader), page)[0] == 404


def test_a_municipality_moved_to_another_county_moves_its_process_pages_at_the_next_request(
    leader, kalmar_leader, vaxjo
):
    process = start_process(municipality=vaxjo, user=leader)
    page = reverse("workflows:process", args=[process.pk])
    kronoberg_browser, kalmar_browser = signed_in(leader), signed_in(kalmar_leader)
    assert hit(kronoberg_browser, page)[0] == 200
    assert hit(kalmar_browser, page)[0] == 404

    vaxjo.county = County.objects.get(code="08")  # an administrator's change, committed
    vaxjo.save()

    assert kronoberg_browser.get(page).status_code == 404
    assert kalmar_browser.get(page).status_code == 200


def test_the_timeline_filter_reads_the_counties_and_municipalities_once(reader, settings):
    settings.PAGE_CACHE_SECONDS = 0  # every request renders the page
    browser = signed_in(reader)
    browser.get(OVERVIEW)  # the reader's access, kept
    with CaptureQueriesContext(connection) as filled:
        browser.get(TIMELINE)
    with CaptureQueriesContext(connection) as kept:
        page = browser.get(TIMELINE, {"county": "07"}).content.decode()
    # The county structure comes from the cache, with everyone's access version.
    assert len(kept) == len(filled) - 2
    assert ">Kronoberg" in page and ">Växjö</option>" in page


def test_a_renamed_municipality_reads_in_the_timeline_filter_at_the_next_request(
    reader, vaxjo, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    browser = signed_in(reader)
    assert ">Växjö</option>" in browser.get(TIMELINE).content.decode()

    vaxjo.name = "Växjö stad"  # an administrator's change, committed
    vaxjo.save()

    page = browser.get(TIMELINE).content.decode()
    assert ">Växjö stad</option>" in page and ">Växjö</option>" not in page


def test_roles_and_permissions_are_read_once_and_then_come_from_the_cache(reader):
    kronoberg = County.objects.get(code="07")
    assert scoping.can_read(fresh(reader), kronoberg)
    user = fresh(reader)
    with CaptureQueriesContext(connection) as captured:
        assert scoping.can_see_personal_data(user, kronoberg)
        assert user.has_perm("workflows.view_policyprocess")
        assert not user.has_perm("workflows.lead_policyprocess")
    assert len(captured) == 0


def test_a_permission_taken_from_the_group_applies_at_the_next_request(reader):
    browser = signed_in(reader)
    assert hit(browser, OVERVIEW)[0] == 200

    Group.objects.get(name="Steering group").permissions.remove(
        Permission.objects.get(codename="view_policyprocess")
    )

    assert browser.get(OVERVIEW).status_code == 403


def test_a_permission_taken_from_the_user_applies_at_the_next_request(seeded):
    person = UserFactory(username="direkt")
    person.user_permissions.add(Permission.objects.get(codename="view_policyprocess"))
    member_of(person, "07", "reference")
    person.groups.clear()  # only the permission given to the person opens the page
    browser = signed_in(person)
    assert hit(browser, OVERVIEW)[0] == 200

    person.user_permissions.clear()

    assert browser.get(OVERVIEW).status_code == 403


def test_an_ended_membership_applies_at_the_next_request(seeded):
    person = member_of(UserFactory(username="tva"), "07", "leader")
    member_of(person, "08", "leader")
    kalmar = County.objects.get(code="08")
    assert scoping.can_lead(fresh(person), kalmar)  # kept in the cache

    end_membership(user=person, project=CountyProject.objects.get(county=kalmar))

    user = fresh(person)
    assert not scoping.can_read(user, kalmar)
    assert scoping.can_lead(user, County.objects.get(code="07"))


def test_the_national_role_given_applies_at_the_next_request(reader):
    assert scoping.visible_county_ids(fresh(reader)) == [County.objects.get(code="07").pk]

    set_national_reader(user=reader)

    assert scoping.visible_county_ids(fresh(reader)) is None


def test_a_deactivated_user_is_signed_out_at_the_next_request(reader):
    browser = signed_in(reader)
    assert hit(browser, OVERVIEW)[0] == 200

    reader.is_active = False
    reader.save()

    response = browser.get(OVERVIEW)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_superuser_made_an_ordinary_user_loses_every_permission_at_the_next_request(seeded):
    admin = UserFactory(username="chef", is_superuser=True, is_staff=True)
    assert fresh(admin).has_perm("workflows.lead_policyprocess")

    admin.is_superuser = False
    admin.save()

    assert not fresh(admin).has_perm("workflows.lead_policyprocess")


def test_a_session_signed_in_by_djangos_model_backend_stays_signed_in(reader):
    browser = Client()
    browser.force_login(reader, backend="django.contrib.auth.backends.ModelBackend")

    assert browser.get(OVERVIEW).status_code == 200
    assert browser.session[BACKEND_SESSION_KEY] == access.BACKEND
    assert browser.get(OVERVIEW).status_code == 200


def test_with_a_cache_of_each_process_own_roles_are_read_from_the_database(reader, settings):
    # The quick start's local memory: a change another process commits would never reach it.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    kronoberg = County.objects.get(code="07")
    assert scoping.can_read(fresh(reader), kronoberg)
    with CaptureQueriesContext(connection) as captured:
        assert scoping.can_read(fresh(reader), kronoberg)
    assert len(captured) == 2  # the user, and their roles


@pytest.fixture
def own_redis(settings):
    server = RedisServer()
    server.start()
    settings.CACHES = {"default": cache_config(server.url)}
    yield server
    server.stop()


def test_while_the_cache_is_down_access_is_read_from_the_database(reader, own_redis, caplog):
    browser = signed_in(reader)
    assert hit(browser, OVERVIEW)[0] == 200
    own_redis.stop()

    with caplog.at_level(logging.ERROR, logger="municipalities.access"):
        end_membership(user=reader, project=CountyProject.objects.get(county__code="07"))

    assert "did not take a new access version" in caplog.text
    assert browser.get(OVERVIEW).status_code == 403


def download(browser, url: str) -> tuple[int, bytes, int]:
    """(status, body, queries) of a download, read to its end as a browser does."""
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body, len(captured)


def test_a_process_csv_from_the_cache_reads_no_event_to_know_who_may_have_it(
    leader, kalmar_leader, vaxjo
):
    process = start_process(municipality=vaxjo, user=leader)
    url = reverse("audit:process_csv", args=[process.pk])
    browser = signed_in(leader)
    browser.get(OVERVIEW)  # the CSRF cookie: downloads are kept for a browser that has one
    status, first, _ = download(browser, url)
    assert status == 200

    # The session, the user and the data version: the county codes of the process's events are
    # kept under the data version (a new event is a new version), the file under the page's key.
    assert download(browser, url) == (200, first, 3)
    kalmar = signed_in(kalmar_leader)
    kalmar.get(OVERVIEW)
    assert download(kalmar, url)[0] == 404
