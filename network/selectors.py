"""Every read about the collaboration organisation, scoped to the counties the user may read.
Each runs a fixed number of queries whatever the number of members and meetings."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from enterprises.models import Enterprise
from municipalities import scoping
from municipalities.models import County

from .models import Member, Milestone, NetworkMeeting, Organisation


def enterprises_of(*, county_id: int) -> QuerySet:
    """The ASF of the county's register (those working in one of its municipalities)."""

    return (
        Enterprise.objects.filter(municipalities__county_id=county_id).distinct().order_by("name")
    )


def county_page(*, user, code: str | None) -> County | None:
    """The county whose organisation to show: the one ``code`` names, else the user's only
    county (None: the user reads several and must choose). 404 outside the user's counties."""
    counties = scoping.visible_counties(user)
    if code:
        county = counties.filter(code=code).first()
        if county is None:
            raise Http404
        return county
    only = list(counties[:2])
    return only[0] if len(only) == 1 else None


def organisation_of(*, county: County) -> Organisation | None:
    """The county's organisation with its members (and their ASF) and milestones (3 queries)."""
    return (
        Organisation.objects.filter(county=county)
        .select_related("county")
        .prefetch_related(
            Prefetch("members", Member.objects.select_related("enterprise")),
            Prefetch("milestones", Milestone.objects.order_by("reached_on", "pk")),
        )
        .first()
    )


def meetings_of(*, organisation: Organisation) -> QuerySet[NetworkMeeting]:
    """The organisation's meetings, newest first, with how many members attended."""
    return organisation.meetings.annotate(present=Count("attendees")).order_by("-held_on", "-pk")


def _scoped(queryset: QuerySet, user) -> QuerySet:
    return scoping.scoped(queryset, user, county_field="organisation__county")


def meeting_detail(*, user, pk: int) -> NetworkMeeting:
    meeting = (
        _scoped(NetworkMeeting.objects.select_related("organisation__county", "created_by"), user)
        .prefetch_related("attendees")
        .filter(pk=pk)
        .first()
    )
    if meeting is None:
        raise Http404
    return meeting


def member_detail(*, user, pk: int) -> Member:
    member = (
        _scoped(Member.objects.select_related("organisation__county", "enterprise"), user)
        .filter(pk=pk)
        .first()
    )
    if member is None:
        raise Http404
    return member


def milestone_detail(*, user, pk: int) -> Milestone:
    milestone = (
        _scoped(Milestone.objects.select_related("organisation__county"), user)
        .filter(pk=pk)
        .first()
    )
    if milestone is None:
        raise Http404
    return milestone


def organisation_by_code(*, user, code: str) -> Organisation:
    """The organisation of a county the user may read; 404 otherwise (or none formed yet)."""
    organisation = (
        scoping.scoped(Organisation.objects.select_related("county"), user, county_field="county")
        .filter(county__code=code)
        .first()
    )
    if organisation is None:
        raise Http404
    return organisation
