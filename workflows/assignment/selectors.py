"""Reads of who does what: the inbox's tabs, a person's open work, and work left with people who
can no longer do it. Each is a bounded number of queries whatever the data size."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

from municipalities import scoping

from .. import selectors as workflow_selectors
from ..flows import PolicyAdoptionFlow
from ..models import CLOSED_STAGES, PolicyProcess

MINE, UNASSIGNED, ALL = "mine", "unassigned", "all"
# In the order the inbox shows them; "mine" is where it opens.
TABS = {
    MINE: _("Mine"),
    UNASSIGNED: _("Unassigned in my counties"),
    ALL: _("All in my counties"),
}

COUNTY = "process__policyprocess__municipality__county"


def inbox_tabs(*, user) -> list[str]:
    """The tabs ``user`` sees: a reader who leads no county has only "all"."""
    if scoping.led_county_ids(user):
        return list(TABS)
    return [ALL]


def inbox_tab(*, user, tab: str) -> QuerySet:
    """The open leader steps of one inbox tab, most urgent (earliest due) first: "mine" (steps
    assigned to ``user`` in the counties they lead), "unassigned" (nobody's, in those counties),
    "all" (every open step in the counties ``user`` may read)."""
    tasks = workflow_selectors.open_leader_steps()
    if tab == MINE:
        tasks = scoping.scoped_for_leading(tasks.filter(owner=user), user, county_field=COUNTY)
    elif tab == UNASSIGNED:
        tasks = scoping.scoped_for_leading(
            tasks.filter(owner__isnull=True), user, county_field=COUNTY
        )
    else:
        tasks = scoping.scoped(tasks, user, county_field=COUNTY)
    return workflow_selectors.most_urgent_first(tasks)


@dataclass(frozen=True)
class OpenWork:
    person: object
    tasks: list
    processes: list

    @property
    def is_empty(self) -> bool:
        return not self.tasks and not self.processes


def open_work(*, person, viewer) -> OpenWork:
    """``person``'s open leader steps and the open processes they are responsible for, in the
    counties ``viewer`` leads (every county for an administrator). Three queries."""
    tasks = workflow_selectors.open_leader_steps().filter(owner=person)
    processes = (
        PolicyProcess.objects.filter(lead=person)
        .exclude(stage__in=CLOSED_STAGES)
        .select_related("municipality__county")
        .order_by("municipality__name", "pk")
    )
    if not viewer.is_superuser:
        tasks = scoping.scoped_for_leading(tasks, viewer, county_field=COUNTY)
        processes = scoping.scoped_for_leading(processes, viewer)
    return OpenWork(
        person=person,
        tasks=list(workflow_selectors.most_urgent_first(tasks)),
        processes=list(processes),
    )


def colleagues(*, county, exclude=None) -> QuerySet:
    """The active project leaders of ``county``, by name (who work can be handed to)."""
    people = scoping.leaders_of(county)
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    return people.order_by("first_name", "last_name", "username")


def colleagues_in_counties(*, counties) -> QuerySet:
    """The active project leaders of any of ``counties``."""
    from municipalities.models import Membership

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            county_memberships__project__county__in=list(counties),
            county_memberships__role=Membership.Role.LEADER,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def stranded_work(*, user) -> list:
    """People who still hold open work in the counties ``user`` leads but can no longer do it
    (deactivated, or no longer a project leader of that county), with how much: the work to
    reassign. Two queries, however many counties ``user`` leads."""
    from municipalities.models import Membership

    if not scoping.led_county_ids(user):
        return []

    def still_leads(person: str, county: str):
        return Exists(
            Membership.objects.filter(
                user=OuterRef(person),
                user__is_active=True,
                project__county=OuterRef(county),
                role=Membership.Role.LEADER,
            )
        )

    steps = scoping.scoped_for_leading(
        Task.objects.filter(
            status__in=workflow_selectors.OPEN,
            flow_task_type="HUMAN",
            process__flow_class=PolicyAdoptionFlow,
            owner__isnull=False,
        ),
        user,
        county_field=COUNTY,
    ).exclude(still_leads("owner", COUNTY))
    processes = scoping.scoped_for_leading(
        PolicyProcess.objects.exclude(stage__in=CLOSED_STAGES), user
    ).exclude(still_leads("lead", "municipality__county"))
    held: dict[int, int] = {}
    # Steps and processes counted in one statement (UNION ALL): a person may hold both.
    counts = (
        steps.values_list("owner")
        .annotate(n=Count("pk"))
        .order_by()
        .union(processes.values_list("lead").annotate(n=Count("pk")).order_by(), all=True)
    )
    for person, n in counts:
        held[person] = held.get(person, 0) + n
    if not held:
        return []
    people = (
        get_user_model().objects.filter(pk__in=held).order_by("first_name", "last_name", "username")
    )
    return [(person, held[person.pk]) for person in people]


def can_see_work_of(*, viewer, person) -> bool:
    """Whether ``viewer`` may see ``person``'s open work: an administrator, or a project leader
    of a county where ``person`` is (or was) a member, or holds open work."""
    if viewer.is_superuser:
        return True
    led = scoping.led_county_ids(viewer)
    if not led:
        return False
    from municipalities.models import Membership

    return (
        Membership.objects.filter(user=person, project__county__in=led).exists()
        or Membership.history.filter(user_id=person.pk, project__county__in=led).exists()
        or PolicyProcess.objects.filter(
            Q(lead=person) | Q(task__owner=person), municipality__county__in=led
        ).exists()
    )
