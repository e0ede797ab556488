"""Roles per county: who reads and who leads which county (municipalities.scoping)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from audit.models import AuditEvent
from municipalities import scoping
from municipalities.models import County, CountyProject, Membership, Municipality
from municipalities.services import end_membership, set_membership
from tests.factories import UserFactory, member_of

pytestmark = pytest.mark.django_db


def _codes(counties) -> list[str]:
    return list(counties.order_by("code").values_list("code", flat=True))


def test_a_leader_reads_and_leads_only_their_county(leader, kalmar_leader):
    kronoberg, kalmar = County.objects.get(code="07"), County.objects.get(code="08")
    assert _codes(scoping.visible_counties(leader)) == ["07"]
    assert _codes(scoping.led_counties(leader)) == ["07"]
    assert scoping.can_read(leader, kronoberg) and scoping.can_lead(leader, kronoberg)
    assert not scoping.can_read(leader, kalmar) and not scoping.can_lead(leader, kalmar)
    assert scoping.can_lead(kalmar_leader, kalmar) and not scoping.can_read(
        kalmar_leader, kronoberg
    )
    assert list(scoping.leaders_of(kronoberg)) == [leader]
    assert list(scoping.leaders_of(kalmar)) == [kalmar_leader]


def test_steering_and_reference_read_without_leading(steering, reference):
    kronoberg = County.objects.get(code="07")
    for member in (steering, reference):
        assert scoping.can_read(member, kronoberg)
        assert not scoping.can_lead(member, kronoberg)
        assert _codes(scoping.led_counties(member)) == []
    assert scoping.can_see_personal_data(steering, kronoberg)
    assert not scoping.can_see_personal_data(reference, kronoberg)


def test_a_national_reader_reads_every_county_and_leads_none(national):
    assert scoping.visible_counties(national).count() == County.objects.count() == 21
    assert scoping.can_read(national, County.objects.get(code="25"))
    assert not scoping.can_lead(national, County.objects.get(code="07"))
    assert not scoping.can_see_personal_data(national, County.objects.get(code="07"))
    assert scoping.has_several_counties(national)


def test_anonymous_and_roleless_users_see_nothing(seeded):
    nobody = UserFactory(username="ingen")
    for user in (AnonymousUser(), nobody, None):
        assert not scoping.visible_counties(user).exists()
        assert not scoping.scoped(Municipality.objects.all(), user, county_field="county").exists()
        assert not scoping.can_read(user, County.objects.get(code="07"))


def test_scoped_querysets_keep_only_the_users_counties(leader):
    member_of(leader, "08", "steering")
    seen = scoping.scoped(Municipality.objects.all(), leader, county_field="county")
    assert set(seen.values_list("county__code", flat=True)) == {"07", "08"}
    led = scoping.scoped_for_leading(Municipality.objects.all(), leader, county_field="county")
    assert set(led.values_list("county__code", flat=True)) == {"07"}
    counties = scoping.scoped(County.objects.all(), leader, county_field="pk")
    assert _codes(counties) == ["07", "08"]
    assert scoping.has_several_counties(leader)


def test_roles_cost_one_query_per_request(leader, django_assert_num_queries):
    user = type(leader).objects.get(pk=leader.pk)  # a fresh user, as each request loads
    kronoberg = County.objects.get(code="07")
    with django_assert_num_queries(1):
        scoping.can_lead(user, kronoberg)
        scoping.led_county_ids(user)
        scoping.can_see_personal_data(user, kronoberg)
        scoping.role_in(user, kronoberg.pk)


def test_membership_changes_are_on_the_record_with_the_county(seeded):
    user = UserFactory(username="maja", first_name="Maja", last_name="Medlem")
    project = CountyProject.objects.get(county__code="07")
    set_membership(user=user, project=project, role=Membership.Role.STEERING)
    set_membership(user=user, project=project, role=Membership.Role.LEADER)
    assert user.groups.filter(name="Project leaders").exists()
    assert not user.groups.filter(name="Steering group").exists()
    end_membership(user=user, project=project)
    assert not user.groups.exists()
    events = AuditEvent.objects.filter(model_label="municipalities.membership").order_by("seq")
    assert [e.county_code for e in events] == ["07", "07", "07"]
    summaries = [e.summary for e in events]
    assert "Maja Medlem" in summaries[0] and "ASF i Kronoberg" in summaries[0]


def test_an_administrator_adds_a_countys_project_with_its_people(seeded):
    from io import StringIO

    from django.core.management import call_command

    karin = UserFactory(username="karin")
    kent = UserFactory(username="kent")
    out = StringIO()
    call_command(
        "add_county_project", "08", "--name", "ASF i Kalmar", "--leader", "karin",
        "--steering", "kent", stdout=out,
    )  # fmt: skip

    kalmar = County.objects.get(code="08")
    assert kalmar.project.name == "ASF i Kalmar"
    assert list(scoping.leaders_of(kalmar)) == [karin]
    assert scoping.can_read(kent, kalmar) and not scoping.can_lead(kent, kalmar)
    assert karin.groups.filter(name="Project leaders").exists()
    assert "karin" in out.getvalue()


def test_adding_a_project_refuses_unknown_users_and_counties(seeded):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("add_county_project", "08", "--leader", "nobody")
    with pytest.raises(CommandError):
        call_command("add_county_project", "99")
    assert not CountyProject.objects.filter(county__code__in=["08", "99"]).exists()
