"""Writes for the municipality register: loading SCB's official list, county projects and
who has which role in them."""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import County, CountyProject, Membership, Municipality

OFFICIAL_LIST = Path(__file__).resolve().parent / "data" / "municipalities.csv"


@dataclass(frozen=True)
class LoadResult:
    counties_created: int
    municipalities_created: int
    municipalities_updated: int


@transaction.atomic
def load_municipalities(*, path: Path = OFFICIAL_LIST) -> LoadResult:
    """Create or update every county and municipality of the official list (idempotent)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    counties = {c.code: c for c in County.objects.all()}
    counties_created = 0
    for row in rows:
        code, name = row["county_code"].strip(), row["county_name"].strip()
        county = counties.get(code)
        if county is None:
            counties[code] = County.objects.create(code=code, name=name)
            counties_created += 1
        elif county.name != name:
            county.name = name
            county.save(update_fields=["name"])

    existing = {m.code: m for m in Municipality.objects.select_related("county")}
    created = updated = 0
    for row in rows:
        code, name = row["municipality_code"].strip(), row["municipality_name"].strip()
        county = counties[row["county_code"].strip()]
        municipality = existing.get(code)
        if municipality is None:
            Municipality.objects.create(code=code, name=name, county=county)
            created += 1
        elif municipality.name != name or municipality.county_id != county.pk:
            municipality.name, municipality.county = name, county
            municipality.save()
            updated += 1
    return LoadResult(counties_created, created, updated)


# The Django groups that hold each role's global permissions (which kinds of pages a person may
# open at all); the county role says in which counties (`municipalities.scoping`). The groups
# follow the memberships: `set_membership` and `end_membership` keep them in step.
PROJECT_LEADERS = "Project leaders"
STEERING_GROUP = "Steering group"
REFERENCE_GROUP = "Reference group"
NATIONAL_READERS = "National readers"
ROLE_GROUPS = {
    Membership.Role.LEADER: PROJECT_LEADERS,
    Membership.Role.STEERING: STEERING_GROUP,
    Membership.Role.REFERENCE: REFERENCE_GROUP,
}


def _stamp(obj, *, actor, reason: str):
    obj._history_user = actor
    obj._change_reason = str(reason)[:100]
    return obj


def forget_roles(user) -> None:
    """Drop the roles cached on ``user`` (`scoping`), after its memberships changed."""
    for name in (
        "_access",
        "_county_roles",
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
    ):
        if hasattr(user, name):
            delattr(user, name)


def sync_role_groups(user) -> None:
    """Put ``user`` in exactly the role groups its memberships call for."""
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_GROUPS.values())}
    wanted = [groups[ROLE_GROUPS[r]] for r in roles if ROLE_GROUPS[r] in groups]
    unwanted = [g for name, g in groups.items() if g not in wanted]
    user.groups.remove(*unwanted)
    user.groups.add(*wanted)
    forget_roles(user)


@transaction.atomic
def create_county_project(*, county_code: str, name: str = "", actor=None) -> CountyProject:
    """The county's project (idempotent: an existing one is returned unchanged)."""
    county = County.objects.filter(code=county_code).first()
    if county is None:
        raise ValidationError(_("No county has the code %(code)s.") % {"code": county_code})
    project = CountyProject.objects.filter(county=county).first()
    if project is None:
        project = CountyProject(
            county=county, name=name or f"ASF i {county.name.removesuffix(' län')}"
        )
        _stamp(project, actor=actor, reason=_("County project created"))
        project.save()
    return project


@transaction.atomic
def set_membership(*, user, project: CountyProject, role: str, actor=None) -> Membership:
    """Give ``user`` ``role`` in ``project`` (one role per project: a new role replaces the old)."""
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role: %(role)s.") % {"role": role})
    membership = Membership.objects.select_for_update().filter(user=user, project=project).first()
    if membership is None:
        membership = Membership(user=user, project=project, role=role)
        _stamp(membership, actor=actor, reason=_("Member added"))
        membership.save()
    elif membership.role != role:
        membership.role = role
        _stamp(membership, actor=actor, reason=_("Role changed"))
        membership.save()
    sync_role_groups(user)
    return membership


@transaction.atomic
def end_membership(*, user, project: CountyProject, actor=None) -> bool:
    """Remove ``user`` from ``project``; whether there was a membership to end."""
    membership = Membership.objects.filter(user=user, project=project).first()
    if membership is None:
        return False
    _stamp(membership, actor=actor, reason=_("Member removed"))
    membership.delete()
    sync_role_groups(user)
    return True


@transaction.atomic
def set_national_reader(*, user, is_reader: bool = True) -> None:
    """Make ``user`` a national reader (every county, read-only) or no longer one."""
    group = Group.objects.get(name=NATIONAL_READERS)
    if is_reader:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    forget_roles(user)
