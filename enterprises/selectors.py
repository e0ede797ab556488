"""Every read of the ASF register a page, an export or the follow-up report needs, scoped to the
counties the user may read (`municipalities.scoping`), in a bounded number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from municipalities import scoping
from municipalities.models import County, Municipality

from .models import Enterprise, Status


def visible_enterprises(user) -> QuerySet[Enterprise]:
    """The enterprises of every county ``user`` may read."""
    return scoping.scoped(Enterprise.objects.all(), user, county_field="county")


def enterprise_list(
    *,
    user,
    county: County | None = None,
    municipality: Municipality | None = None,
    status: str = "",
    search: str = "",
) -> QuerySet[Enterprise]:
    """The register's list page and export: filtered, ordered by name, with each enterprise's
    county and municipalities fetched in two queries whatever the number of rows."""
    qs = visible_enterprises(user)
    if county is not None:
        qs = qs.filter(county=county)
    if municipality is not None:
        qs = qs.filter(municipalities=municipality)
    if status:
        qs = qs.filter(status=status)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(org_number__startswith=search)
            | Q(line_of_business__icontains=search)
        )
    return qs.select_related("county").prefetch_related("municipalities").order_by("name", "pk")


def enterprise_for(*, user, pk: int) -> Enterprise:
    """One enterprise ``user`` may read; another county's answers 404, as if it did not exist."""
    enterprise = (
        visible_enterprises(user)
        .select_related("county", "created_by")
        .prefetch_related("municipalities")
        .filter(pk=pk)
        .first()
    )
    if enterprise is None:
        raise Http404
    return enterprise


def municipality_choices(user) -> QuerySet[Municipality]:
    """The municipalities of the counties ``user`` may read (the list's filter)."""
    return Municipality.objects.filter(county__in=scoping.visible_counties(user)).order_by("name")


# --- The follow-up report (the whole project's period report) ----------------------------------


@dataclass(frozen=True)
class MunicipalityFigures:
    """One municipality's row of the register's figures for a period."""

    municipality_id: int
    code: str
    name: str
    county_code: str
    active_at_end: int  # ASF working in the municipality on the period's last day
    new_in_period: int  # ASF that entered the register during the period
    places: int  # places in work integration of the ASF active at the end


@dataclass(frozen=True)
class RegisterFigures:
    start: datetime.date
    end: datetime.date
    rows: list[MunicipalityFigures]
    # The counties' totals count each enterprise once (one working in two municipalities is
    # in both rows, so the rows do not add up to the totals).
    active_at_end: int
    new_in_period: int
    places: int


def _active_at(end: datetime.date, prefix: str = "") -> Q:
    """In the register on ``end`` and running: entered by then, not closed by then, and not
    still starting (an enterprise being started is counted once it is active)."""
    return (
        Q(**{f"{prefix}registered_on__lte": end})
        & (Q(**{f"{prefix}closed_on__isnull": True}) | Q(**{f"{prefix}closed_on__gt": end}))
        & ~Q(**{f"{prefix}status": Status.STARTING})
    )


def _new_in(start: datetime.date, end: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}registered_on__gte": start, f"{prefix}registered_on__lte": end})


def register_figures(
    *, counties: Iterable[County], start: datetime.date, end: datetime.date
) -> RegisterFigures:
    """Per municipality of ``counties`` (every one, zeros included, by county then name): the
    ASF active at ``end``, those new in the register from ``start`` to ``end`` (both included)
    and the places in work integration of the active ones; and the counties' totals.

    Two queries whatever the register's size. Scoping is the caller's: pass the counties the
    reader may read (`municipalities.scoping.visible_counties(user)`)."""
    county_ids = [c.pk for c in counties]
    rows = (
        Municipality.objects.filter(county_id__in=county_ids)
        .annotate(
            active_at_end=Count("enterprises", filter=_active_at(end, "enterprises__")),
            new_in_period=Count("enterprises", filter=_new_in(start, end, "enterprises__")),
            places_at_end=Sum("enterprises__places", filter=_active_at(end, "enterprises__")),
        )
        .order_by("county__code", "name")
        .values_list(
            "pk", "code", "name", "county__code", "active_at_end", "new_in_period", "places_at_end"
        )
    )
    totals = Enterprise.objects.filter(county_id__in=county_ids).aggregate(
        active=Count("pk", filter=_active_at(end)),
        new=Count("pk", filter=_new_in(start, end)),
        places=Sum("places", filter=_active_at(end)),
    )
    return RegisterFigures(
        start=start,
        end=end,
        rows=[
            MunicipalityFigures(pk, code, name, county, active, new, places or 0)
            for pk, code, name, county, active, new, places in rows
        ],
        active_at_end=totals["active"],
        new_in_period=totals["new"],
        places=totals["places"] or 0,
    )
