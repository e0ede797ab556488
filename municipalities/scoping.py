"""Who may see and do what in which county: the one place pages, exports and services ask.

A user's county roles are read once per request (kept on the user object, as Django keeps
permissions; from the cache when current, see `access`) and every function here answers from
them:

- leader (projektledare) of a county: reads and acts on its processes, sees personal data;
- steering group (styrgrupp): reads everything of its county, acts on nothing;
- reference group (referensgrupp): reads the overview and the reports, no personal data;
- national reader (the "National readers" group, permission
  ``municipalities.view_all_counties``): reads every county like a reference group;
- a superuser reads every county with personal data, and leads none without a role.

Anonymous users and users without a role see no county.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from . import access
from .models import County, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    UserLike = AbstractBaseUser | AnonymousUser | None

NATIONAL_PERMISSION = "municipalities.view_all_counties"
Role = Membership.Role
_PERSONAL_DATA_ROLES = frozenset({Role.LEADER, Role.STEERING})


def _is_user(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def county_roles(user: UserLike) -> dict[int, str]:
    """{county id: role} of ``user``: from the cache when current (`access`), else one query;
    then kept on the user object."""
    if not _is_user(user):
        return {}
    roles = getattr(user, "_county_roles", None)
    if roles is None:
        roles, user._county_codes = access.county_roles(user)
        user._county_roles = roles
    return roles


def _codes(user, ids) -> list[str]:
    county_roles(user)
    codes = getattr(user, "_county_codes", {})
    return sorted(codes[pk] for pk in ids if pk in codes)


def is_national_reader(user: UserLike) -> bool:
    """Reads every county (read-only). Asked through Django's permission cache, which every
    page fills anyway to check its own permission."""
    return _is_user(user) and user.has_perm(NATIONAL_PERMISSION)


def _county_id(county) -> int | None:
    return county if isinstance(county, int) or county is None else county.pk


def visible_county_ids(user: UserLike) -> list[int] | None:
    """Ids of the counties ``user`` may read, or None for every county."""
    if is_national_reader(user):
        return None
    return sorted(county_roles(user))


def led_county_ids(user: UserLike) -> list[int]:
    return sorted(c for c, role in county_roles(user).items() if role == Role.LEADER)


def visible_counties(user: UserLike) -> QuerySet[County]:
    """The counties ``user`` may read (national reader: all; anonymous: none)."""
    if not _is_user(user):
        return County.objects.none()
    ids = visible_county_ids(user)
    return County.objects.all() if ids is None else County.objects.filter(pk__in=ids)


def led_counties(user: UserLike) -> QuerySet[County]:
    """The counties where ``user`` is a project leader."""
    return County.objects.filter(pk__in=led_county_ids(user))


def role_in(user: UserLike, county) -> str | None:
    """``user``'s role in ``county`` (a County or its id), or None."""
    return county_roles(user).get(_county_id(county))


def can_read(user: UserLike, county) -> bool:
    return _is_user(user) and (role_in(user, county) is not None or is_national_reader(user))


def can_lead(user: UserLike, county) -> bool:
    return role_in(user, county) == Role.LEADER


def can_see_personal_data(user: UserLike, county) -> bool:
    """Contact persons' names and emails, answers, meeting notes: leaders and steering group
    (and superusers); not the reference group or national readers."""
    if not _is_user(user):
        return False
    return role_in(user, county) in _PERSONAL_DATA_ROLES or bool(user.is_superuser)


def has_several_counties(user: UserLike) -> bool:
    """Whether "all counties" views are offered: several counties, or the national role."""
    ids = visible_county_ids(user)
    return ids is None or len(ids) > 1


def personal_data_county_ids(user: UserLike) -> list[int] | None:
    """Counties whose personal data ``user`` may see, or None for every county (superuser)."""
    if not _is_user(user):
        return []
    if user.is_superuser:
        return None
    return sorted(c for c, role in county_roles(user).items() if role in _PERSONAL_DATA_ROLES)


def visible_county_codes(user: UserLike) -> list[str] | None:
    """The codes of the counties ``user`` may read, or None for every county."""
    ids = visible_county_ids(user)
    return None if ids is None else _codes(user, ids)


def audit_county_codes(user: UserLike) -> list[str] | None:
    """The county codes whose audit trail ``user`` reads (AUDIT_COUNTY_SCOPE): the trail names
    contact persons, so the counties of their personal data (None: every county)."""
    ids = personal_data_county_ids(user)
    return None if ids is None else _codes(user, ids)


def _filter(queryset: QuerySet, ids: list[int] | None, county_field: str) -> QuerySet:
    if ids is None:
        return queryset
    if not ids:
        return queryset.none()
    return queryset.filter(**{f"{county_field}__in": ids})


def scoped(queryset: QuerySet, user: UserLike, *, county_field: str = "municipality__county"):
    """``queryset`` filtered to the counties ``user`` may read."""
    if not _is_user(user):
        return queryset.none()
    return _filter(queryset, visible_county_ids(user), county_field)


def scoped_for_leading(
    queryset: QuerySet, user: UserLike, *, county_field: str = "municipality__county"
):
    """``queryset`` filtered to the counties ``user`` leads."""
    return _filter(queryset, led_county_ids(user), county_field)


def scoped_with_personal_data(
    queryset: QuerySet, user: UserLike, *, county_field: str = "municipality__county"
):
    """``queryset`` filtered to the counties whose personal data ``user`` may see (process
    pages, timelines, the audit trail: they name contact persons)."""
    return _filter(queryset, personal_data_county_ids(user), county_field)


def leaders_of(county) -> QuerySet:
    """The active project leaders of ``county`` (a County or its id)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            county_memberships__project__county_id=_county_id(county),
            county_memberships__role=Role.LEADER,
        )
        .order_by("first_name", "last_name", "username")
    )
