"""The benchmark's parts that write (the steps, the parallel writers, the pages' background
writes) need processes waiting at the draft step, each of another municipality. Where the data
has too few (the tiny size), `bench.step_service.processes_at_draft` takes open processes of other
municipalities there through the services, as a leader would (the step part's `ServiceDriver`)."""

import pytest

from bench.step_service import processes_at_draft, waiting_at_draft
from municipalities.models import Municipality
from tests.factories import ContactFactory
from tests.workflows.helpers import walk_to
from workflows import services
from workflows.models import PolicyProcess, Stage

pytestmark = pytest.mark.django_db


def test_too_few_at_the_draft_step_others_are_taken_there_each_of_another_municipality(leader):
    places = list(Municipality.objects.filter(county__code="07").order_by("code")[:4])
    contacts = [ContactFactory(municipality=place) for place in places]
    started = [services.start_process(municipality=place, user=leader) for place in places]
    walk_to(started[0], leader, contacts[0], "draft")  # one waits at the draft step already
    walk_to(started[1], leader, contacts[1], "dialogue")  # one in dialogue; two at first contact

    chosen = processes_at_draft(3, leader)

    assert len(chosen) == 3 and started[0].pk in chosen
    taken = PolicyProcess.objects.filter(pk__in=chosen)
    assert len({process.municipality_id for process in taken}) == 3
    # Each waits at the draft step with its municipality's contact to approve, and is the
    # process the municipality already had: none was started beside it.
    assert set(waiting_at_draft().values_list("pk", flat=True)) == set(chosen)
    assert {str(process.get_stage_display()) for process in taken} == {"Utkast skrivs"}
    assert PolicyProcess.objects.count() == 4
    # The fourth municipality's process stays where it was: three were asked for.
    left = next(process for process in started if process.pk not in chosen)
    left.refresh_from_db()
    assert left.stage in (Stage.CONTACT, Stage.DIALOGUE)

    # More than the data holds: every municipality's open process, and no more.
    assert sorted(processes_at_draft(6, leader)) == sorted(process.pk for process in started)


def test_with_a_county_its_processes_are_taken_to_the_draft_step_before_anothers_waiting_one(
    leader, kalmar_leader
):
    """The pages' writes run in the county the overview opens on, so that its figures are
    computed again as after a step there."""
    vaxjo = Municipality.objects.get(code="0780")
    waiting = services.start_process(municipality=vaxjo, user=leader)
    walk_to(waiting, leader, ContactFactory(municipality=vaxjo), "draft")
    kalmar = list(Municipality.objects.filter(county__code="08").order_by("code")[:2])
    for place in kalmar:
        ContactFactory(municipality=place)
    started = [services.start_process(municipality=place, user=kalmar_leader) for place in kalmar]

    chosen = processes_at_draft(2, kalmar_leader, county=kalmar[0].county)

    # Kalmar's two, both brought to the draft step from the first contact; Växjö's waiting
    # process (Kronoberg's, of a lower municipality) is left for the other parts.
    assert sorted(chosen) == sorted(process.pk for process in started)
    assert set(waiting_at_draft().values_list("pk", flat=True)) == {*chosen, waiting.pk}
    # Without a county, as before: the lowest municipality first.
    assert processes_at_draft(1, kalmar_leader) == [waiting.pk]
