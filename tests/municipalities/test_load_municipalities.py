"""Loading SCB's municipality list and seeding Kronoberg give the same result however often run."""

import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory

from municipalities.models import Contact, County, Municipality

pytestmark = pytest.mark.django_db

KRONOBERG = {
    "0760": "Uppvidinge",
    "0761": "Lessebo",
    "0763": "Tingsryd",
    "0764": "Alvesta",
    "0765": "Älmhult",
    "0767": "Markaryd",
    "0780": "Växjö",
    "0781": "Ljungby",
}


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def history_rows() -> tuple[int, int]:
    return County.history.count(), Municipality.history.count()


def test_load_municipalities_gives_21_counties_and_290_municipalities():
    run("load_municipalities")

    assert County.objects.count() == 21
    assert Municipality.objects.count() == 290


def test_kronoberg_has_exactly_its_eight_municipalities_with_official_codes():
    run("load_municipalities")

    kronoberg = County.objects.get(code="07")
    assert dict(kronoberg.municipalities.values_list("code", "name")) == KRONOBERG


def test_loading_the_municipalities_twice_changes_nothing():
    run("load_municipalities")
    counts = County.objects.count(), Municipality.objects.count()
    rows = list(Municipality.objects.order_by("code").values_list("pk", "code", "name", "county"))
    history = history_rows()

    output = run("load_municipalities")

    assert (County.objects.count(), Municipality.objects.count()) == counts
    assert (
        list(Municipality.objects.order_by("code").values_list("pk", "code", "name", "county"))
        == rows
    )
    assert history_rows() == history
    assert "created: 0" in output and "updated: 0" in output


def test_seed_kronoberg_creates_the_roles_with_their_permissions():
    run("seed_kronoberg")

    def permissions(group: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=group).permissions.all()
        }

    assert permissions("Project leaders") == {
        "workflows.lead_policyprocess",
        "workflows.view_policyprocess",
        "notifications.view_delivery_log",
        "notifications.retry_notification",
    }
    assert permissions("Steering group") == {
        "workflows.follow_policyprocess",
        "workflows.view_policyprocess",
    }


def test_seed_kronoberg_demo_creates_one_contact_per_kronoberg_municipality():
    run("seed_kronoberg", "--demo")

    per_municipality = {
        m.code: m.contacts.count() for m in Municipality.objects.filter(county__code="07")
    }
    assert per_municipality == dict.fromkeys(KRONOBERG, 1)
    # And Kalmar's, the demo's second county; no other county's.
    assert not Contact.objects.exclude(municipality__county__code__in=["07", "08"]).exists()


def test_seed_kronoberg_demo_prints_working_passwords_for_new_demo_users():
    output = run("seed_kronoberg", "--demo")

    passwords = dict(re.findall(r"Demo user '(\w+)' created, password: (\S+)", output))
    assert set(passwords) == {
        "projektledare",
        "projektledare2",
        "styrgrupp",
        "referensgrupp",
        "kalmar",
        "nationell",
        "admin",
    }
    for username, password in passwords.items():
        # As the sign-in page does: with its request (django-axes' backend requires one).
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password=password) is not None
    leader = get_user_model().objects.get(username="projektledare")
    assert leader.has_perm("workflows.lead_policyprocess")
    steering = get_user_model().objects.get(username="styrgrupp")
    assert not steering.has_perm("workflows.lead_policyprocess")
    assert get_user_model().objects.get(username="admin").is_superuser


def test_seed_kronoberg_demo_twice_creates_nothing_and_prints_no_passwords():
    run("seed_kronoberg", "--demo")
    users = list(get_user_model().objects.order_by("pk").values_list("pk", "password"))
    contacts = list(Contact.objects.order_by("pk").values_list("pk", "email"))
    groups = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    history = history_rows(), Contact.history.count()

    output = run("seed_kronoberg", "--demo")

    assert "password:" not in output
    assert list(get_user_model().objects.order_by("pk").values_list("pk", "password")) == users
    assert list(Contact.objects.order_by("pk").values_list("pk", "email")) == contacts
    assert {
        g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()
    } == groups
    assert (history_rows(), Contact.history.count()) == history
    assert County.objects.count() == 21 and Municipality.objects.count() == 290
