"""The overview's summary of the process history (ProcessStageTime): kept in step with every
stage change by the services, and giving the same figures as the history itself."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from municipalities.models import County, Municipality
from tests.factories import ContactFactory, member_of
from workflows import services, stage_summary
from workflows.models import (
    CurrentProcess,
    Decision,
    MunicipalityStageReached,
    PolicyProcess,
    ProcessStageTime,
)
from workflows.overview import selectors
from workflows.overview.figures import progress, stage_times, stage_visits
from workflows.stage_limits import stage_limits
from workflows.voiding import void_record

from .helpers import decision_fields, english, open_task, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def at(day: str, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=datetime.UTC)


@pytest.fixture
def winding_story(leader):
    """Växjö's draft goes back for changes once, and the council sends the matter back
    (återremiss) to dialogue; Alvesta has stayed in dialogue since January; Ljungby adopted."""
    member_of(leader, "07", "leader")
    vera = ContactFactory(municipality=Municipality.objects.get(code="0780"))
    alma = ContactFactory(municipality=Municipality.objects.get(code="0764"))
    lars = ContactFactory(municipality=Municipality.objects.get(code="0781"))

    def start(code):
        return services.start_process(municipality=Municipality.objects.get(code=code), user=leader)

    with time_machine.travel(at("2026-01-05"), tick=False):
        vaxjo, alvesta, ljungby = start("0780"), start("0764"), start("0781")
    with time_machine.travel(at("2026-01-12"), tick=False):
        walk_to(vaxjo, leader, vera, "dialogue")
    with time_machine.travel(at("2026-01-20"), tick=False):
        walk_to(alvesta, leader, alma, "dialogue")
        walk_to(ljungby, leader, lars, "request_approval")
    with time_machine.travel(at("2026-02-02"), tick=False):
        walk_to(vaxjo, leader, vera, "request_approval")
        walk_to(ljungby, leader, lars, "decision")
    with time_machine.travel(at("2026-02-09", 14), tick=False):
        walk_to(vaxjo, leader, vera, "approval")
    with time_machine.travel(at("2026-02-20"), tick=False):
        services.answer_approval(
            task=open_task(vaxjo, "approval"),
            contact=vera,
            answer="changes_requested",
            comment="Kortare, tack.",
        )
        services.record_decision(
            task=open_task(ljungby, "decision"), user=leader, **decision_fields("adopted")
        )
    with time_machine.travel(at("2026-03-01"), tick=False):
        walk_to(vaxjo, leader, vera, "approval")
    with time_machine.travel(at("2026-03-10", 16), tick=False):
        walk_to(vaxjo, leader, vera, "decision")
    with time_machine.travel(at("2026-04-01"), tick=False):
        services.record_decision(
            task=open_task(vaxjo, "decision"), user=leader, **decision_fields("sent_back")
        )
    with time_machine.travel(at("2026-04-15"), tick=False):
        walk_to(vaxjo, leader, vera, "request_approval")
    return vaxjo


def summary_rows() -> list[dict]:
    fields = ["process_id", "municipality_id", "stage", "first_entered_at", "spent"]
    return sorted(
        ProcessStageTime.objects.values(*fields, "spent_days", "entered_at"),
        key=lambda row: (row["process_id"], row["stage"]),
    )


def test_the_summary_is_what_the_history_says(winding_story):
    kept = summary_rows()
    from_history = sorted(
        stage_summary.summarise(
            stage_summary.history_entries(PolicyProcess.history.model, PolicyProcess)
        ),
        key=lambda row: (row["process_id"], row["stage"]),
    )

    assert kept == from_history
    vaxjo = {row["stage"]: row for row in kept if row["process_id"] == winding_story.pk}
    # Drafting twice (2–9 Feb, 20 Feb–1 Mar) and again since 15 April.
    assert vaxjo["drafting"]["spent"] == datetime.timedelta(days=16, hours=5)
    assert vaxjo["drafting"]["entered_at"] == at("2026-04-15")
    # Back to dialogue after the council sent the matter back: 12 Jan–2 Feb and 1–15 April.
    assert vaxjo["dialogue"]["spent"] == datetime.timedelta(days=35)
    assert vaxjo["dialogue"]["first_entered_at"] == at("2026-01-12")


@pytest.mark.parametrize("now", [at("2026-05-15", 12), at("2026-05-16", 8)])
def test_the_figures_from_the_summary_equal_those_from_the_history(winding_story, now):
    county = County.objects.get(code="07")
    limits = stage_limits()
    visits = stage_visits(
        processes=list(PolicyProcess.objects.filter(municipality__county=county)),
        municipality__county=county,
    )
    names = dict(Municipality.objects.values_list("pk", "name"))

    figures = selectors.county_figures(county=county, limits=limits, now=now)

    assert figures.progress == progress(visits=visits, now=now)
    assert figures.stage_times == stage_times(visits=visits, names=names, limits=limits, now=now)
    drafting = next(t for t in figures.stage_times if t.stage == "drafting")
    assert (drafting.count, drafting.slowest_municipality) == (2, "Växjö")


def test_the_figures_of_every_county_equal_those_from_the_history(winding_story):
    now = at("2026-05-15", 12)
    limits = stage_limits()
    visits = stage_visits(processes=list(PolicyProcess.objects.all()))
    names = dict(Municipality.objects.values_list("pk", "name"))

    figures = selectors.county_figures(county=None, limits=limits, now=now)

    assert figures.progress == progress(visits=visits, now=now)
    assert figures.stage_times == stage_times(visits=visits, names=names, limits=limits, now=now)


def first_entries() -> list[tuple]:
    return sorted(
        MunicipalityStageReached.objects.values_list("municipality_id", "stage", "reached_at")
    )


def current_rows() -> list[tuple]:
    return sorted(
        CurrentProcess.objects.values_list(
            "municipality_id", "process_id", "process__stage", "process__stage_entered_at"
        )
    )


def current_from_processes() -> list[tuple]:
    """Each municipality's current process, read from every process (what the board did)."""
    return sorted(
        stage_summary.one_per_municipality(PolicyProcess.objects.all()).values_list(
            "municipality_id", "pk", "stage", "stage_entered_at"
        )
    )


def test_each_municipalitys_current_process_is_kept_on_each_write(winding_story, leader):
    ljungby = Municipality.objects.get(code="0781")
    adopted = PolicyProcess.objects.get(municipality=ljungby)
    assert current_rows() == current_from_processes()
    assert len(current_rows()) == 3  # Växjö, Alvesta and Ljungby have started

    # Ljungby revises its adopted policy: the revision is its current process.
    with time_machine.travel(at("2026-05-04"), tick=False):
        revision = services.start_process(municipality=ljungby, user=leader)
    assert (ljungby.pk, revision.pk, "contact", at("2026-05-04")) in current_rows()
    assert current_rows() == current_from_processes()

    # The revision deleted (an administrator's mistake undone): the adopted one is current again.
    revision.delete()
    assert (ljungby.pk, adopted.pk, "adopted") in [row[:3] for row in current_rows()]
    assert current_rows() == current_from_processes()

    # The adopting decision voided: the process waits for its decision again.
    with time_machine.travel(at("2026-05-11"), tick=False):
        void_record(
            record=Decision.objects.get(process=adopted), user=leader, reason="Fel paragraf."
        )
    assert (ljungby.pk, adopted.pk, "awaiting_decision", at("2026-05-11")) in current_rows()
    assert current_rows() == current_from_processes()


def test_rebuilding_from_the_history_gives_the_summary_kept_on_each_write(winding_story):
    kept, entries, current = summary_rows(), first_entries(), current_rows()
    # As if it had drifted:
    ProcessStageTime.objects.filter(process=winding_story).delete()
    MunicipalityStageReached.objects.filter(stage="drafting").delete()
    CurrentProcess.objects.filter(municipality=winding_story.municipality).delete()

    call_command("rebuild_stage_times", stdout=io.StringIO())

    assert summary_rows() == kept
    assert first_entries() == entries
    assert current_rows() == current
    # Ljungby reached dialogue and drafting on 20 January, in the same minute.
    ljungby = Municipality.objects.get(code="0781").pk
    assert (ljungby, "dialogue", at("2026-01-20")) in entries
    assert (ljungby, "drafting", at("2026-01-20")) in entries


def test_the_figures_read_the_same_four_queries_however_long_the_history(
    winding_story, leader, django_assert_max_num_queries
):
    county, limits = County.objects.get(code="07"), stage_limits()
    vera = winding_story.municipality.contacts.get()
    for scope in (county, None):
        with django_assert_max_num_queries(4):
            selectors.county_figures(county=scope, limits=limits, now=at("2026-06-01"))

    for day in ("2026-05-04", "2026-05-11", "2026-05-18"):  # three more rounds of changes
        with time_machine.travel(at(day), tick=False):
            services.answer_approval(
                task=walk_to(winding_story, leader, vera, "approval"),
                contact=vera,
                answer="changes_requested",
                comment="En gång till.",
            )

    for scope in (county, None):
        with django_assert_max_num_queries(4):
            figures = selectors.county_figures(county=scope, limits=limits, now=at("2026-06-01"))
        awaiting = next(t for t in figures.stage_times if t.stage == "awaiting_approval")
        assert awaiting.slowest_municipality == "Växjö"


def test_the_figures_version_is_new_with_each_change_of_the_summary_and_one_query(
    winding_story, leader, django_assert_num_queries
):
    """The overview's cached figures are current while their version stays: it moves with each
    process that starts, changes stage or goes away, and with a rebuilt summary; a county's own
    version stays while another county changes."""
    kronoberg, limits = County.objects.get(code="07"), stage_limits()

    def versions() -> tuple[str, str]:
        with django_assert_num_queries(2):
            return tuple(
                selectors.figures_version(county=scope, limits=limits)
                for scope in (kronoberg, None)
            )

    seen = [versions()]
    ljungby = Municipality.objects.get(code="0781")
    with time_machine.travel(at("2026-05-04"), tick=False):
        revision = services.start_process(municipality=ljungby, user=leader)
    seen.append(versions())
    with time_machine.travel(at("2026-05-11"), tick=False):
        walk_to(winding_story, leader, winding_story.municipality.contacts.get(), "approval")
    seen.append(versions())
    revision.delete()
    seen.append(versions())
    call_command("rebuild_stage_times", stdout=io.StringIO())
    seen.append(versions())
    assert len({county for county, _ in seen}) == len({country for _, country in seen}) == 5

    # Another county's new process: the country's figures change, Kronoberg's stay.
    member_of(leader, "06", "leader")
    elsewhere = Municipality.objects.filter(county__code="06").first()
    with time_machine.travel(at("2026-05-18"), tick=False):
        services.start_process(municipality=elsewhere, user=leader)
    now = versions()
    assert now[0] == seen[-1][0] and now[1] != seen[-1][1]
