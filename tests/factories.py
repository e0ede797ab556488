"""factory-boy factories for the project's models."""

import factory
from django.contrib.auth import get_user_model

from municipalities.models import Contact


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@policyflow.example")
    password = factory.django.Password("secret-pass-123")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Kontakt {n}")
    title = "Näringslivsutvecklare"
    email = factory.Sequence(lambda n: f"kontakt{n}@kommun.example")
    language = "sv"


# --- People with a role in a county's project (municipalities.scoping) ------------------------


def member_of(user, county_code: str, role: str):
    """Give ``user`` ``role`` ("leader", "steering", "reference") in ``county_code``'s project
    (created if missing), through the service: the role groups follow."""
    from municipalities.services import create_county_project, set_membership

    project = create_county_project(county_code=county_code)
    set_membership(user=user, project=project, role=role)
    return user


def leader_of(county_code: str, **fields):
    """A project leader of the county (e.g. ``leader_of("07")``, ``leader_of("08")``)."""
    return member_of(UserFactory(**fields), county_code, "leader")


def steering_of(county_code: str, **fields):
    return member_of(UserFactory(**fields), county_code, "steering")


def reference_of(county_code: str, **fields):
    return member_of(UserFactory(**fields), county_code, "reference")


def national_reader(**fields):
    """Reads every county, read-only (the "National readers" group)."""
    from municipalities.services import set_national_reader

    user = UserFactory(**fields)
    set_national_reader(user=user)
    return user
