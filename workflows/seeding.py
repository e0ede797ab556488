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
)

from .defaults import ensure_defaults

KRONOBERG = "07"

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
    # username, role, first name, last name, superuser
    ("projektledare", PROJECT_LEADERS, "Pia", "Projektledare", False),
    ("styrgrupp", STEERING_GROUP, "Sven", "Styrgrupp", False),
    ("admin", None, "Ada", "Administratör", True),
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
    kronoberg = create_county_project(county_code=KRONOBERG, name="ASF i Kronoberg")

    result = SeedResult()
    if not demo:
        return result

    User = get_user_model()
    for username, role, first, last, is_superuser in DEMO_USERS:
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
        if role:
            set_membership(user=user, project=kronoberg, role=GROUP_ROLES[role])
        result.new_passwords[username] = password

    for municipality in Municipality.objects.filter(county__code=KRONOBERG):
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
    return result
