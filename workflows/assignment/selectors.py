"""Reads of who does what: the inbox's tabs, a person's open work, and work left with people who
can no longer do it. Each is a bounded number of queries whatever the data size."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task

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
    reassign. One statement (two when someone holds such work), however many counties ``user``
    leads.

    Written in SQL: the inbox asks it on every request, and the ORM spent about 5 ms of CPU
    building this statement (two correlated subqueries in a UNION ALL), twice what PostgreSQL
    takes to answer it. Its open steps find their county through the index
    `process_municipality`, one lookup each, instead of hashing every process ever started."""
    led = scoping.led_county_ids(user)
    if not led:
        return []
    held: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(*_stranded_sql(led))
        # Steps and processes counted in one statement: a person may hold both.
        for person, n in cursor.fetchall():
            held[person] = held.get(person, 0) + n
    if not held:
        return []
    people = (
        get_user_model().objects.filter(pk__in=held).order_by("first_name", "last_name", "username")
    )
    return [(person, held[person.pk]) for person in people]


# Open steps, then open processes, held by someone who is not an active project leader of
# their county, counted per person. {names} are our models' tables, quoted (`_stranded_sql`).
_STRANDED = """
SELECT t.owner_id, COUNT(*) FROM {task} t
  INNER JOIN {process} vp ON t.process_id = vp.id
  INNER JOIN {policy_process} p ON t.process_id = p.process_ptr_id
  INNER JOIN {municipality} m ON p.municipality_id = m.id
  WHERE t.status IN (%s, %s, %s) AND t.flow_task_type = %s AND vp.flow_class = %s
    AND t.owner_id IS NOT NULL AND m.county_id IN ({counties})
    AND NOT {owner_still_leads}
  GROUP BY t.owner_id
UNION ALL
SELECT p.lead_id, COUNT(*) FROM {policy_process} p
  INNER JOIN {municipality} m ON p.municipality_id = m.id
  WHERE p.stage NOT IN (%s, %s) AND m.county_id IN ({counties})
    AND NOT {lead_still_leads}
  GROUP BY p.lead_id
"""

# Whether {person} is still an active project leader of the county of municipality m.
_STILL_LEADS = """EXISTS (
      SELECT 1 FROM {membership} ms
        INNER JOIN {project} cp ON ms.project_id = cp.id
        INNER JOIN {user} u ON ms.user_id = u.id
        WHERE ms.user_id = {person} AND cp.county_id = m.county_id
          AND ms.role = %s AND u.is_active)"""


def _stranded_sql(led: list[int]) -> tuple[str, list]:
    from municipalities.models import CountyProject, Membership, Municipality

    models = {
        "task": Task,
        "process": Process,
        "policy_process": PolicyProcess,
        "municipality": Municipality,
        "membership": Membership,
        "project": CountyProject,
        "user": get_user_model(),
    }
    names = {name: connection.ops.quote_name(m._meta.db_table) for name, m in models.items()}
    sql = _STRANDED.format(
        counties=", ".join(["%s"] * len(led)),
        owner_still_leads=_STILL_LEADS.format(person="t.owner_id", **names),
        lead_still_leads=_STILL_LEADS.format(person="p.lead_id", **names),
        **names,
    )
    # The value viewflow stores for the flow (its field's own conversion of the class).
    flow_class = Process._meta.get_field("flow_class").get_prep_value(PolicyAdoptionFlow)
    leader = str(Membership.Role.LEADER)
    params = [
        *(str(status) for status in workflow_selectors.OPEN),
        "HUMAN",
        flow_class,
        *led,
        leader,
        *(str(stage) for stage in CLOSED_STAGES),
        *led,
        leader,
    ]
    return sql, params


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
