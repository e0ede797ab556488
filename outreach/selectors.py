"""Every read of knowledge spreading, scoped to the counties the user may read. Each runs a fixed
number of queries whatever the number of activities."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from enterprises.models import Enterprise
from municipalities import scoping
from municipalities.models import County

from .models import Activity, Audience


def _reached_subquery():
    return Coalesce(
        Subquery(
            Audience.objects.filter(activity=OuterRef("pk"))
            .values("activity")
            .annotate(n=Sum("total"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def activity_list(*, user, county: County | None = None) -> QuerySet[Activity]:
    """The activities ``user`` may read (of one county, or of all they may read), newest first,
    each with the people it reached and the number of municipalities involved."""
    activities = Activity.objects.select_related("county")
    if county is not None:
        activities = activities.filter(county=county)
    municipalities = Activity.municipalities.through.objects.filter(activity=OuterRef("pk"))
    return scoping.scoped(activities, user, county_field="county").annotate(
        reached=_reached_subquery(),
        municipality_count=Coalesce(
            Subquery(
                municipalities.values("activity").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
    )


def activity_detail(*, user, pk: int) -> Activity:
    """One activity with what it involved and reached; 404 outside the user's counties."""
    related = [
        "municipalities",
        "enterprises",
        Prefetch("audience", Audience.objects.order_by("pk")),
    ]
    activity = (
        scoping.scoped(
            Activity.objects.select_related("county", "created_by"), user, county_field="county"
        )
        .prefetch_related(*related)
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404
    return activity


def county_for_reading(*, user, code: str | None) -> County | None:
    """The county ``code`` names if the user may read it (None when no code is given); 404
    for an unknown county or one the user may not read."""
    if not code:
        return None
    county = scoping.visible_counties(user).filter(code=code).first()
    if county is None:
        raise Http404
    return county


def county_for_leading(*, user, code: str | None) -> County:
    """The county the user leads that ``code`` names, or their only led county. Someone who
    leads no county (a reader) is refused (PermissionDenied); a county the user may read but
    not lead too; one they may not read, or an ambiguous choice, is not found (Http404)."""
    led = list(scoping.led_counties(user))
    if not led:
        raise PermissionDenied
    if code:
        for county in led:
            if county.code == code:
                return county
        if scoping.visible_counties(user).filter(code=code).exists():
            raise PermissionDenied
        raise Http404
    if len(led) == 1:
        return led[0]
    raise Http404


def enterprise_choices(*, county: County) -> QuerySet[Enterprise]:
    """The ASF of the county's register an activity can involve."""
    return Enterprise.objects.filter(county=county).order_by("name", "pk")
