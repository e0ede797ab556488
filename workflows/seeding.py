"""Seed data for a quick start: the official municipality list, the roles and demo data."""

import secrets
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from municipalities.models import Contact, Membership, Municipality
from municipalities.services import (
    NATIONAL_READERS,
    PROJECT_LEADERS,
    REFERENCE_GROUP,
    STEERING_GROUP,
    create_county_project,
    load_municipalities,
    set_membership,
    set_national_reader,
)

from .defaults import ensure_defaults

KRONOBERG = "07"
KALMAR = "08"
# The second county of the demo, so that the walls between counties show in `make run`.
DEMO_COUNTIES = {KRONOBERG: "ASF i Kronoberg", KALMAR: "ASF i Kalmar"}
# Municipalities of Kalmar with a demo process (started by Kalmar's leader).
KALMAR_DEMO_PROCESSES = ["0880", "0840"]  # Kalmar, Mörbylånga
NATIONAL = "national"

ROLE_PERMISSIONS = {
    PROJECT_LEADERS: [
        "workflows.lead_policyprocess",
        "workflows.view_policyprocess",
        "notifications.view_delivery_log",
        "notifications.retry_notification",
    ],
    STEERING_GROUP: ["workflows.follow_policyprocess", "workflows.view_policyprocess"],
    REFERENCE_GROUP: ["workflows.view_policyprocess"],
    NATIONAL_READERS: ["workflows.view_policyprocess", "municipalities.view_all_counties"],
}
ROLE_LABELS = {
    PROJECT_LEADERS: _("Project leaders"),
    STEERING_GROUP: _("Steering group"),
    REFERENCE_GROUP: _("Reference group"),
    NATIONAL_READERS: _("National readers"),
}
GROUP_ROLES = {
    PROJECT_LEADERS: Membership.Role.LEADER,
    STEERING_GROUP: Membership.Role.STEERING,
    REFERENCE_GROUP: Membership.Role.REFERENCE,
}

DEMO_USERS = [
    # username, county code (or NATIONAL), role, first name, last name, superuser
    ("projektledare", KRONOBERG, PROJECT_LEADERS, "Pia", "Projektledare", False),
    ("projektledare2", KRONOBERG, PROJECT_LEADERS, "Leo", "Ledare", False),
    ("styrgrupp", KRONOBERG, STEERING_GROUP, "Sven", "Styrgrupp", False),
    ("referensgrupp", KRONOBERG, REFERENCE_GROUP, "Rut", "Referens", False),
    ("kalmar", KALMAR, PROJECT_LEADERS, "Karin", "Kalmar", False),
    ("nationell", NATIONAL, NATIONAL_READERS, "Nora", "Nationell", False),
    ("admin", None, None, "Ada", "Administratör", True),
]


@dataclass
class SeedResult:
    new_passwords: dict[str, str] = field(default_factory=dict)


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _ascii_slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_name.lower() if ch.isalnum())


@transaction.atomic
def seed(*, demo: bool = False) -> SeedResult:
    """Idempotent: running it again changes nothing and prints no new passwords."""
    load_municipalities()
    ensure_defaults()
    for role, permissions in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([_permission(p) for p in permissions])
    create_county_project(county_code=KRONOBERG, name=DEMO_COUNTIES[KRONOBERG])

    result = SeedResult()
    if not demo:
        return result

    projects = {
        code: create_county_project(county_code=code, name=name)
        for code, name in DEMO_COUNTIES.items()
    }
    User = get_user_model()
    for username, county, role, first, last, is_superuser in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        password = secrets.token_urlsafe(9)
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first,
            last_name=last,
            email=f"{username}@policyflow.example",
            is_staff=is_superuser,
            is_superuser=is_superuser,
        )
        if county == NATIONAL:
            set_national_reader(user=user)
        elif role:
            set_membership(user=user, project=projects[county], role=GROUP_ROLES[role])
        result.new_passwords[username] = password

    for municipality in Municipality.objects.filter(county__code__in=list(DEMO_COUNTIES)):
        slug = _ascii_slug(municipality.name)
        Contact.objects.get_or_create(
            municipality=municipality,
            email=f"asf-kontakt@{slug}.example",
            defaults={
                # Pages name a contact with the municipality (Contact.__str__): "Kim Kontakt
                # (Älmhult)"; the name itself must not repeat it.
                "name": "Kim Kontakt",
                "title": "Näringslivsutvecklare",
                "language": "sv",
            },
        )
    _start_kalmar_demo_processes()
    return result


def _start_kalmar_demo_processes() -> None:
    """A process or two in Kalmar, led by Kalmar's leader: what Kronoberg's leaders never see."""
    from .models import PolicyProcess
    from .services import start_process

    leader = get_user_model().objects.filter(username="kalmar").first()
    if leader is None:
        return
    for code in KALMAR_DEMO_PROCESSES:
        municipality = Municipality.objects.get(code=code)
        if not PolicyProcess.objects.filter(municipality=municipality).exists():
            start_process(municipality=municipality, user=leader)
