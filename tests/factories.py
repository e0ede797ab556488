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


# --- The ASF register -------------------------------------------------------------------------


def valid_org_number(n: int, prefix: str = "769") -> str:
    """A made-up organisation number with a correct check digit (NNNNNN-NNNN)."""
    from enterprises.validators import orgnr_check_digit

    first_nine = f"{prefix}{n:06d}"
    return f"{first_nine[:6]}-{first_nine[6:]}{orgnr_check_digit(first_nine)}"


def _county(code: str):
    from municipalities.models import County

    return County.objects.get(code=code)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    """An enterprise of the ASF register; ``municipalities=[...]`` (default: none)."""

    class Meta:
        model = "enterprises.Enterprise"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"ASF nummer {n}")
    org_number = factory.Sequence(valid_org_number)
    legal_form = "ekonomisk_forening"
    places = 5
    county = factory.LazyFunction(lambda: _county("07"))

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)


# --- Knowledge spreading and the collaboration organisation (outreach, network) ---------------


class ActivityFactory(factory.django.DjangoModelFactory):
    """An activity of a county's project (pass ``county`` and ``created_by``)."""

    class Meta:
        model = "outreach.Activity"

    kind = "seminar"
    title = factory.Sequence(lambda n: f"Frukostseminarium om ASF {n}")
    held_on = factory.Faker("date_between", start_date="-1y", end_date="today")
    organiser = "Region Kronoberg"


class AudienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "outreach.Audience"

    actor_type = "municipality"
    total = 10
