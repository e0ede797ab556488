"""The steering group's county overview: the stage board, its figures with their tables, the
municipality page and the follow-up report (PDF)."""

import datetime
import http.server
import io
import itertools
import re
import threading

import html5lib
import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from municipalities.models import Contact, Municipality
from municipalities.services import set_national_reader
from tests.factories import ContactFactory, UserFactory, member_of
from workflows import services
from workflows.flows import PolicyAdoptionFlow
from workflows.models import PolicyProcess, Stage, StageLimit
from workflows.overview import report as overview_report

from .helpers import current_task, decision_fields, english, open_task, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

UTC = datetime.UTC
OVERVIEW = reverse("workflows:overview")


def at(day: str, hour: int = 9) -> datetime.datetime:
    """A moment in UTC: the stage durations below do not depend on daylight saving time."""
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def steering_client(client, steering):
    """Sven, Kronoberg's steering group, who also reads every county (a national reader): the
    board of every county at once (the walls between counties: test_county_walls.py)."""
    set_national_reader(user=steering)
    client.force_login(steering)
    return client


def contact_in(code: str, name: str) -> Contact:
    municipality = Municipality.objects.get(code=code)
    return ContactFactory(municipality=municipality, name=name)


def start(code: str, leader) -> PolicyProcess:
    municipality = Municipality.objects.select_related("county").get(code=code)
    member_of(leader, municipality.county.code, "leader")  # the leader leads its county
    return services.start_process(municipality=municipality, user=leader)


# --- Reading the rendered tables --------------------------------------------------------------


SVG = "{http://www.w3.org/2000/svg}"


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def _document(response):
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=False)


def board_rows(response) -> dict[str, dict]:
    """Each board row by municipality code: its current stage column and the other cells."""
    table = _document(response).find(".//table[@class='data board']")
    for label in table.iter("span"):
        if label.get("class") == "cell-label":
            label.text = ""  # a cell's column name, shown only where the board is cards
    headers = [_text(th) for th in table.find("thead").iter("th")]
    rows = {}
    for tr in table.find("tbody").iter("tr"):
        cells = [c for c in tr if c.tag in ("th", "td")]
        current = [
            (headers[i], _text(c))
            for i, c in enumerate(cells)
            if "current" in (c.get("class") or "")
        ]
        assert len(current) == 1, "a municipality stands in exactly one column"
        column, cell = current[0]
        due = cells[-1].find(".//time")
        rows[tr.get("id").removeprefix("municipality-")] = {
            "name": _text(cells[0]),
            "column": re.sub(r" \(\d+\).*", "", column),  # without the count and the limit
            "cell": cell,
            "is_stalled": cells[headers.index(column)].find(".//span[@class='stalled']")
            is not None,
            "next_action": _text(cells[-3]),
            "holder": _text(cells[-2]),
            "due": due.get("datetime") if due is not None else None,
        }
    return rows


def table(response, caption_id: str) -> list[list[str]]:
    """The rows of the table captioned ``caption_id``, header row first, as cell texts."""
    for element in _document(response).iter("table"):
        caption = element.find("caption")
        if caption is not None and caption.get("id") == caption_id:
            return [
                [_text(cell) for cell in tr if cell.tag in ("th", "td")]
                for tr in element.iter("tr")
            ]
    raise AssertionError(f"no table captioned #{caption_id}")


# --- The stage board --------------------------------------------------------------------------


@pytest.fixture
def kronoberg_story(leader):
    """Five Kronoberg municipalities in different stages; three have not started.

    Växjö in dialogue since 12 January, Alvesta's draft sent on 2 February (21-day limit),
    Tingsryd waiting for its first contact since 5 January (14-day limit), Ljungby adopted.
    """
    vera = contact_in("0780", "Vera Växjö")
    alma = contact_in("0764", "Alma Alvesta")
    lars = contact_in("0781", "Lars Ljungby")
    with time_machine.travel(at("2026-01-05"), tick=False):
        vaxjo, alvesta, tingsryd, ljungby = (
            start(code, leader) for code in ("0780", "0764", "0763", "0781")
        )
    with time_machine.travel(at("2026-01-12"), tick=False):
        walk_to(vaxjo, leader, vera, "dialogue")
        walk_to(alvesta, leader, alma, "dialogue")
    with time_machine.travel(at("2026-02-02"), tick=False):
        walk_to(alvesta, leader, alma, "approval")
        walk_to(ljungby, leader, lars, "decision")
        services.record_decision(
            task=current_task(ljungby), user=leader, **decision_fields("adopted")
        )
    return {"vaxjo": vaxjo, "alvesta": alvesta, "tingsryd": tingsryd, "ljungby": ljungby}


def test_board_shows_each_kronoberg_municipality_in_its_stage_with_days_and_stall(
    steering_client, kronoberg_story
):
    with time_machine.travel(at("2026-03-02", 12), tick=False):
        rows = board_rows(steering_client.get(OVERVIEW))

    assert set(rows) == {"0760", "0761", "0763", "0764", "0765", "0767", "0780", "0781"}
    vaxjo, alvesta, tingsryd, ljungby = rows["0780"], rows["0764"], rows["0763"], rows["0781"]
    assert (vaxjo["column"], vaxjo["cell"]) == ("In dialogue", "● 49 days")
    assert not vaxjo["is_stalled"]
    assert (vaxjo["next_action"], vaxjo["holder"]) == ("Hold the dialogue", "Pia Projektledare")
    assert vaxjo["due"] == "2026-04-12"  # 12 January + the 90-day limit

    assert (alvesta["column"], alvesta["cell"]) == (
        "Draft sent to the municipality",
        "● 28 days Stalled",
    )
    assert alvesta["is_stalled"]
    assert alvesta["next_action"] == "Approval by the municipal contact"
    assert alvesta["holder"] == "waiting for Alma Alvesta"
    assert alvesta["due"] == "2026-02-23"

    assert (tingsryd["column"], tingsryd["cell"]) == ("Awaiting first contact", "● 56 days Stalled")
    assert (tingsryd["next_action"], tingsryd["holder"]) == (
        "Record first contact",
        "Pia Projektledare",
    )

    assert ljungby["column"] == "Policy adopted" and not ljungby["is_stalled"]
    assert ljungby["next_action"] == "None: the process is closed" and ljungby["due"] is None

    for code in ("0760", "0761", "0765", "0767"):
        assert rows[code]["column"] == "Not started"
        assert rows[code]["next_action"] == "Start a process"


def test_board_says_how_many_are_stalled_in_text_with_an_icon(steering_client, kronoberg_story):
    with time_machine.travel(at("2026-03-02", 12), tick=False):
        page = steering_client.get(OVERVIEW).content.decode()

    assert "8 municipalities: 4 not started, 2 stalled." in page
    # The flag is a word next to an icon hidden from screen readers, never a colour alone.
    badge = re.search(r'<span class="stalled">(.*?)</span>', page, re.S).group(1)
    assert 'aria-hidden="true"' in badge and badge.strip().endswith("Stalled")


def test_the_funnel_counts_the_municipalities_in_each_stage_in_words(
    steering_client, kronoberg_story
):
    with time_machine.travel(at("2026-03-02", 12), tick=False):
        response = steering_client.get(OVERVIEW)

    funnel = _document(response).find(".//section[@aria-labelledby='funnel-heading']/ol")
    rows = [_text(li) for li in funnel]
    assert rows[:4] == [
        "Not started 4",
        "Awaiting first contact 1",
        "In dialogue 1",
        "Draft being written 0",
    ]
    assert "Policy adopted 1" in rows
    # Bars drawn by the page as inline SVG: the longest is the largest count.
    widths = [li.find(f".//{SVG}svg").findall(f"{SVG}rect")[1].get("width") for li in funnel]
    assert widths[0] == "100.00" and widths[1] == "25.00" and widths[3] == "0.00"


def test_a_municipality_is_stalled_only_once_its_stage_limit_has_passed(
    steering_client, kronoberg_story
):
    # Alvesta's draft was sent on 2 February at 09:00 UTC; the limit is 21 days.
    with time_machine.travel(at("2026-02-23", 8), tick=False):
        before = board_rows(steering_client.get(OVERVIEW))["0764"]
    with time_machine.travel(at("2026-02-23", 10), tick=False):
        after = board_rows(steering_client.get(OVERVIEW))["0764"]

    assert not before["is_stalled"] and after["is_stalled"]


def test_county_filter_shows_the_chosen_countys_municipalities(steering_client, leader):
    jonkoping = start("0680", leader)

    rows = board_rows(steering_client.get(OVERVIEW, {"county": "06"}))

    assert len(rows) == 13  # Jönköping county's 13 municipalities
    assert "0780" not in rows
    assert rows["0680"]["column"] == "Awaiting first contact"
    assert rows["0680"]["next_action"] == "Record first contact"
    assert jonkoping.municipality.name in rows["0680"]["name"]


def test_the_page_shows_no_note_written_for_its_developers(steering_client, seeded):
    # A template comment over several lines is not a comment to Django's `{# #}`: it is shown.
    for params in ({}, {"county": "all"}):
        page = steering_client.get(OVERVIEW, params).content.decode()
        assert "{#" not in page and "#}" not in page and "page_cache" not in page


def test_the_board_defaults_to_kronoberg_and_can_show_every_county(steering_client, seeded):
    default = board_rows(steering_client.get(OVERVIEW))
    everything = table(steering_client.get(OVERVIEW, {"county": "all"}), "board-caption")

    assert len(default) == 8
    assert len(everything) == 1 + 21  # one row per county
    assert sum(int(row[1]) for row in everything[1:]) == 290


def test_every_county_at_once_counts_each_countys_municipalities_per_stage(
    steering_client, kronoberg_story, leader
):
    start("0680", leader)  # Jönköping, waiting for its first contact
    with time_machine.travel(at("2026-03-02", 12), tick=False):
        response = steering_client.get(OVERVIEW, {"county": "all"})
    rows = {row[0]: row for row in table(response, "board-caption")}

    header = [re.sub(r" \(\d+\).*", "", cell) for cell in table(response, "board-caption")[0]]
    assert header == [
        "County",
        "Municipalities",
        "Not started",
        "Awaiting first contact",
        "In dialogue",
        "Draft being written",
        "Draft sent to the municipality",
        "Draft approved, awaiting decision",
        "Policy adopted",
        "Policy rejected",
        "Stalled",
    ]
    # Kronoberg: Tingsryd and Alvesta past their limits (as on the county's own board).
    assert rows["Kronobergs län"][1:] == ["8", "4", "1", "1", "0", "1", "0", "1", "0", "2"]
    assert rows["Jönköpings län"][1:] == ["13", "12", "1", "0", "0", "0", "0", "0", "0", "0"]
    assert rows["Gotlands län"][1:] == ["1", "1", "0", "0", "0", "0", "0", "0", "0", "0"]
    page = response.content.decode()
    assert "290 municipalities: 285 not started, 2 stalled." in page
    assert 'href="?county=07"' in page  # each county links to its own board


def test_the_figures_follow_a_stage_change_at_once(steering_client, months_story, leader):
    """The figures are cached between requests, never past a change to what they show."""
    with time_machine.travel(at("2026-05-15", 12), tick=False):
        before = table(steering_client.get(OVERVIEW), "stage-times-caption")
        alvesta = PolicyProcess.objects.get(municipality__code="0764")
        walk_to(alvesta, leader, Contact.objects.get(name="Alma Alvesta"), "draft")
        after = table(steering_client.get(OVERVIEW), "stage-times-caption")

    assert before[2] == ["In dialogue", "2", "61.5", "95", "Alvesta (still in this stage)", "90"]
    assert after[2] == ["In dialogue", "2", "61.5", "95", "Alvesta", "90"]
    assert after[3][:2] == ["Draft being written", "2"]


def test_the_figures_follow_a_changed_stage_limit_at_once(steering_client, months_story):
    with time_machine.travel(at("2026-05-15", 12), tick=False):
        before = table(steering_client.get(OVERVIEW), "stage-times-caption")
        limit = StageLimit.objects.get(stage="dialogue")  # as an administrator changes it
        limit.days = 45
        limit.save()
        after = table(steering_client.get(OVERVIEW), "stage-times-caption")

    assert before[2][-1] == "90" and after[2][-1] == "45"


def test_the_figures_count_the_days_of_an_ongoing_stage_as_they_pass(steering_client, months_story):
    with time_machine.travel(at("2026-05-15", 12), tick=False):
        today = table(steering_client.get(OVERVIEW), "stage-times-caption")
    with time_machine.travel(at("2026-05-16", 12), tick=False):
        tomorrow = table(steering_client.get(OVERVIEW), "stage-times-caption")

    assert today[1][3] == "123" and tomorrow[1][3] == "124"  # Ljungby, still waiting


def test_an_unknown_county_is_not_found(steering_client, seeded):
    assert steering_client.get(OVERVIEW, {"county": "99"}).status_code == 404


# --- Query counts -----------------------------------------------------------------------------

# The node whose step is open while a process is in each stage.
NODE_OF_STAGE = {
    Stage.CONTACT: "contact",
    Stage.DIALOGUE: "dialogue",
    Stage.DRAFTING: "draft",
    Stage.AWAITING_APPROVAL: "approval",
    Stage.AWAITING_DECISION: "decision",
}


def bulk_processes(municipalities, *, lead) -> list[PolicyProcess]:
    """One process per municipality, cycling through every stage, written with few statements.

    A process row is saved one by one (viewflow's process is a multi-table model, which Django
    cannot bulk-insert), with its history; its open step, the contacts and the approvers of the
    processes waiting for approval are inserted in bulk.
    """
    processes = [
        PolicyProcess.objects.create(
            flow_class=PolicyAdoptionFlow,
            municipality=municipality,
            lead=lead,
            stage=stage,
            stage_entered_at=at("2026-01-05"),
        )
        for municipality, stage in zip(municipalities, itertools.cycle(Stage), strict=False)
    ]
    Task.objects.bulk_create(
        Task(
            process=process,
            flow_task=getattr(PolicyAdoptionFlow, NODE_OF_STAGE[process.stage]),
            flow_task_type="FUNCTION" if process.stage == Stage.AWAITING_APPROVAL else "HUMAN",
            status=STATUS.NEW,
            owner=None if process.stage == Stage.AWAITING_APPROVAL else lead,
        )
        for process in processes
        if process.stage in NODE_OF_STAGE
    )
    waiting = [p for p in processes if p.stage == Stage.AWAITING_APPROVAL]
    contacts = Contact.objects.bulk_create(
        Contact(municipality_id=p.municipality_id, name=f"Kontakt {p.pk}", email=f"k{p.pk}@x.se")
        for p in waiting
    )
    PolicyProcess.approvers.through.objects.bulk_create(
        PolicyProcess.approvers.through(policyprocess_id=p.pk, contact_id=c.pk)
        for p, c in zip(waiting, contacts, strict=True)
    )
    return processes


def queries(client, url: str, params=None) -> int:
    """The queries of a page rendered afresh (not from the page cache)."""
    client.get(url, params)  # warm-up: per-process caches (content types, templates)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def kronoberg_in_every_stage(leader):
    """The 8 Kronoberg municipalities through the real flow, stopped at different steps."""
    stops = ["contact", "dialogue", "draft", "request_approval", "approval", "decision"]
    municipalities = Municipality.objects.filter(county__code="07").order_by("code")
    for municipality, stop in zip(municipalities, itertools.cycle(stops), strict=False):
        contact = ContactFactory(municipality=municipality)
        process = services.start_process(municipality=municipality, user=leader)
        walk_to(process, leader, contact, stop)


def test_overview_queries_are_the_same_for_8_and_290_municipalities(
    steering_client, leader, kronoberg_in_every_stage
):
    small = queries(steering_client, OVERVIEW)
    every_county_small = queries(steering_client, OVERVIEW, {"county": "all"})

    bulk_processes(Municipality.objects.exclude(county__code="07").order_by("code"), lead=leader)
    assert PolicyProcess.objects.count() == 290
    every_county_large = queries(steering_client, OVERVIEW, {"county": "all"})
    kronoberg_among_290 = queries(steering_client, OVERVIEW)

    assert small == kronoberg_among_290, (small, kronoberg_among_290)
    assert every_county_small == every_county_large, (every_county_small, every_county_large)
    # Rendered afresh, figures computed (20 and 17 before each municipality's current process
    # was kept in a summary).
    assert small <= 19
    assert every_county_small <= 16
    everything = table(steering_client.get(OVERVIEW, {"county": "all"}), "board-caption")
    assert sum(int(row[2]) for row in everything[1:]) == 0  # every municipality has started


def test_municipality_page_queries_are_the_same_for_8_and_290_municipalities(
    steering_client, steering, leader, kronoberg_in_every_stage
):
    url = reverse("workflows:overview_municipality", args=["0780"])
    small = queries(steering_client, url)

    bulk_processes(Municipality.objects.exclude(county__code="07").order_by("code"), lead=leader)
    large = queries(steering_client, url)
    member_of(steering, "12", "steering")  # Skåne's timeline too, as on Kronoberg's page
    other_county = queries(
        steering_client, reverse("workflows:overview_municipality", args=["1280"])
    )

    assert small == large == other_county, (small, large, other_county)


# --- The figures and their tables -------------------------------------------------------------


@pytest.fixture
def months_story(leader):
    """Växjö goes from start to adoption between January and April; Alvesta stops in dialogue
    (since 9 February), Ljungby waits for its first contact (since 12 January)."""
    vera, alma = contact_in("0780", "Vera Växjö"), contact_in("0764", "Alma Alvesta")
    with time_machine.travel(at("2026-01-05"), tick=False):
        vaxjo, alvesta = start("0780", leader), start("0764", leader)
    with time_machine.travel(at("2026-01-12"), tick=False):
        start("0781", leader)
    with time_machine.travel(at("2026-02-02"), tick=False):
        walk_to(vaxjo, leader, vera, "dialogue")
    with time_machine.travel(at("2026-02-09"), tick=False):
        walk_to(alvesta, leader, alma, "dialogue")
    with time_machine.travel(at("2026-03-02"), tick=False):
        walk_to(vaxjo, leader, vera, "draft")
    with time_machine.travel(at("2026-03-09"), tick=False):
        walk_to(vaxjo, leader, vera, "approval")
    with time_machine.travel(at("2026-04-06"), tick=False):
        walk_to(vaxjo, leader, vera, "decision")
    with time_machine.travel(at("2026-04-20"), tick=False):
        services.record_decision(
            task=open_task(vaxjo, "decision"), user=leader, **decision_fields("adopted")
        )
    return vaxjo


def test_progress_table_counts_the_municipalities_that_reached_each_stage_by_month(
    steering_client, months_story
):
    with time_machine.travel(at("2026-05-15", 12), tick=False):
        response = steering_client.get(OVERVIEW)

    rows = table(response, "progress-caption")
    assert rows[0] == [
        "Month",
        "Awaiting first contact",
        "In dialogue",
        "Draft being written",
        "Draft sent to the municipality",
        "Draft approved, awaiting decision",
        "Policy adopted",
        "Policy rejected",
    ]
    assert rows[1:] == [
        ["2026-01", "3", "0", "0", "0", "0", "0", "0"],
        ["2026-02", "3", "2", "0", "0", "0", "0", "0"],
        ["2026-03", "3", "2", "1", "1", "0", "0", "0"],
        ["2026-04", "3", "2", "1", "1", "1", "1", "0"],
        ["2026-05", "3", "2", "1", "1", "1", "1", "0"],
    ]


PROGRESS_LOOP = (
    "{% for month in progress.months %}\n  <tr>\n"
    """    <th scope="row"><time datetime="{{ month.month|date:'Y-m' }}">"""
    """{{ month.month|date:"Y-m" }}</time></th>\n"""
    "    {% for count in month.counts %}<td>{{ count }}</td>{% endfor %}\n  </tr>\n  {% endfor %}"
)


def test_progress_rows_are_the_rows_the_template_loop_wrote():
    """The progress table's rows are written in Python (`progress_rows`): the same HTML as the
    template loop they replace, for months across a year's end and a ten-thousands count."""
    from django.template import Context, Template

    from workflows.overview.figures import Progress, ProgressMonth

    months = [
        ProgressMonth(datetime.date(2025, 12, 1), [1, 0, 0]),
        ProgressMonth(datetime.date(2026, 1, 1), [3, 2, 10000]),
    ]
    context = Context({"progress": Progress(stages=[], months=months)})
    ours = Template("{% load policyflow %}{% progress_rows progress %}").render(context)
    assert ours == Template(PROGRESS_LOOP).render(context)
    assert '<time datetime="2026-01">2026-01</time>' in ours and "<td>10000</td>" in ours


# The board's rows as its template wrote them before `board_rows` (the same HTML, in Python).
BOARD_LOOP = (
    "{% for row in board.rows %}\n"
    '  <tr id="municipality-{{ row.municipality.code }}"{% if row.is_stalled %} class="is-stalled"{% endif %}>\n'  # noqa: E501
    '    <th scope="row"><a href="{% url \'workflows:overview_municipality\' row.municipality.code %}">{{ row.municipality.name }}</a>{% if not board.county %} <span class="code">{{ row.municipality.county.name }}</span>{% endif %}</th>\n'  # noqa: E501
    '    {% if row.is_started %}<td></td>{% else %}<td class="current"><span class="cell-label">{% translate \'Stage\' %}: </span><span class="marker" aria-hidden="true">●</span> {% translate "Not started" %}</td>{% endif %}\n'  # noqa: E501
    "    {% for column in board.columns %}\n"
    "    {% if row.stage == column.stage %}\n"
    '    <td class="current"><span class="cell-label">{{ column.label }}: </span><span class="marker" aria-hidden="true">●</span>\n'  # noqa: E501
    '      {% if row.adopted_on %}{% translate "Revision:" %} {% endif %}{% if row.process.is_open %}{% include "workflows/overview/includes/days.html" with days=row.days_in_stage %}{% else %}{% blocktranslate with day=row.process.stage_entered_at|date:"SHORT_DATE_FORMAT" %}since {{ day }}{% endblocktranslate %}{% endif %}\n'  # noqa: E501
    '      {% if row.is_stalled %}<br>{% include "workflows/overview/includes/stalled.html" %}{% endif %}\n'  # noqa: E501
    "    </td>\n"
    '    {% elif row.adopted_on and column.stage == "adopted" %}\n'
    "    {# The policy in force, while a revision is under way in another column. #}\n"
    '    <td class="earlier"><span class="cell-label">{{ column.label }}: </span>{% blocktranslate with day=row.adopted_on|date:"SHORT_DATE_FORMAT" %}adopted {{ day }}{% endblocktranslate %}</td>\n'  # noqa: E501
    "    {% else %}<td></td>{% endif %}\n"
    "    {% endfor %}\n"
    "    <td><span class=\"cell-label\">{% translate 'Next action' %}: </span>{% if row.process %}<a href=\"{% url 'workflows:process' row.process.pk %}\">{{ row.next_action }}</a>{% else %}{{ row.next_action }}{% endif %}</td>\n"  # noqa: E501
    "    <td><span class=\"cell-label\">{% translate 'Held by' %}: </span>{{ row.holder }}</td>\n"
    '    <td><span class="cell-label">{% translate \'Next due\' %}: </span>{% if row.due_on %}<time datetime="{{ row.due_on|date:\'Y-m-d\' }}">{{ row.due_on|date:"SHORT_DATE_FORMAT" }}</time>{% if row.is_stalled %} ({% translate "overdue" %}){% endif %}{% else %}–{% endif %}</td>\n'  # noqa: E501
    "  </tr>\n"
    "  {% endfor %}"
)


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("whole_country", [False, True])
def test_board_rows_are_the_rows_the_template_loop_wrote(language, whole_country):
    """The stage board's rows are written in Python (`board_rows`): the same HTML as the template
    loop they replace, for a municipality not started, one stalled in a revision of its adopted
    policy, one closed, one on time, and names that need escaping."""
    from django.template import Context, Template
    from django.utils import translation

    from workflows.overview.selectors import Board, BoardRow, StageColumn

    now = datetime.datetime(2026, 5, 15, 12, tzinfo=datetime.UTC)
    vaxjo, alvesta, ljungby, almhult = (
        Municipality.objects.select_related("county").get(code=code)
        for code in ("0780", "0764", "0781", "0765")
    )

    def process(pk, municipality, stage, entered):
        return PolicyProcess(
            pk=pk, municipality=municipality, stage=stage, stage_entered_at=entered
        )

    stalled = process(7, vaxjo, Stage.DRAFTING, now - datetime.timedelta(days=40))
    closed = process(
        8, ljungby, Stage.ADOPTED, datetime.datetime(2026, 2, 20, 23, tzinfo=datetime.UTC)
    )
    on_time = process(9, almhult, Stage.CONTACT, now - datetime.timedelta(days=1))
    rows = [
        BoardRow(alvesta, None, None, None, None, False, "Start a process", "–"),
        BoardRow(
            vaxjo,
            stalled,
            40,
            30,
            datetime.date(2026, 4, 5),
            True,
            "Write <draft>",
            "O'Brien & Söner",
            adopted_on=datetime.date(2024, 3, 4),
        ),
        BoardRow(ljungby, closed, 84, None, None, False, "None: the process is closed", "–"),
        BoardRow(almhult, on_time, 1, 14, datetime.date(2026, 5, 28), False, "Contact", "Pia"),
    ]
    columns = [
        StageColumn(s.value, str(s.label), 1, 14 if s == Stage.CONTACT else None) for s in Stage
    ]
    board = Board(
        county=None if whole_country else vaxjo.county,
        rows=rows,
        columns=columns,
        not_started=1,
        stalled=1,
        now=now,
        processes=[],
    )

    with translation.override(language):
        context = Context({"board": board})
        ours = Template("{% load policyflow %}{% board_rows board %}").render(context)
        theirs = Template("{% load i18n %}" + BOARD_LOOP).render(context)

    assert ours == theirs
    assert "O&#x27;Brien &amp; Söner" in ours and "Write &lt;draft&gt;" in ours


# The country board's rows as its template wrote them before `country_rows`.
COUNTRY_LOOP = (
    "{% for row in board.rows %}\n"
    '  <tr id="county-{{ row.county.code }}">\n'
    '    <th scope="row"><a href="?county={{ row.county.code }}">{{ row.county.name }}</a></th>\n'
    "    <td>{{ row.municipalities }}</td>\n"
    "    <td>{{ row.not_started }}</td>\n"
    "    {% for count in row.counts %}<td>{{ count }}</td>{% endfor %}\n"
    "    <td>{{ row.stalled }}</td>\n"
    "  </tr>\n"
    "  {% endfor %}"
)


def test_country_rows_are_the_rows_the_template_loop_wrote():
    """The country board's rows are written in Python (`country_rows`): the same HTML as the
    template loop they replace, for a county with every count and a name that needs escaping."""
    from django.template import Context, Template

    from municipalities.models import County
    from workflows.overview.selectors import CountryBoard, CountyRow

    counties = [County(code="07", name="Kronobergs län"), County(code="99", name="Ö & <Län>")]
    rows = [
        CountyRow(counties[0], 8, 1, [2, 1, 1, 1, 1, 1, 0], 3),
        CountyRow(counties[1], 0, 0, [0] * 7, 0),
    ]
    board = CountryBoard(
        rows=rows,
        columns=[],
        municipalities=8,
        not_started=1,
        stalled=3,
        now=datetime.datetime.now(datetime.UTC),
    )
    context = Context({"board": board})
    ours = Template("{% load policyflow %}{% country_rows board %}").render(context)

    assert ours == Template(COUNTRY_LOOP).render(context)
    assert ">Ö &amp; &lt;Län&gt;</a>" in ours and "<td>3</td>" in ours


def test_stage_time_table_gives_median_and_slowest_days_per_stage(steering_client, months_story):
    with time_machine.travel(at("2026-05-15", 12), tick=False):
        response = steering_client.get(OVERVIEW)

    rows = table(response, "stage-times-caption")
    assert rows[1:] == [
        # Växjö 28 days, Alvesta 35, Ljungby 123 and counting.
        ["Awaiting first contact", "3", "35", "123", "Ljungby (still in this stage)", "14"],
        # Växjö 28 days, Alvesta 95 and counting.
        ["In dialogue", "2", "61.5", "95", "Alvesta (still in this stage)", "90"],
        ["Draft being written", "1", "7", "7", "Växjö", "30"],
        ["Draft sent to the municipality", "1", "28", "28", "Växjö", "21"],
        ["Draft approved, awaiting decision", "1", "14", "14", "Växjö", "120"],
    ]


def test_each_figure_is_an_inline_image_with_a_title_a_description_and_a_table(
    steering_client, months_story
):
    steering_client.cookies["django_language"] = "sv"
    response = steering_client.get(OVERVIEW)
    figures = _document(response).findall(".//figure[@class='chart']")

    assert len(figures) == 2
    for figure in figures:
        (svg,) = [e for e in figure if e.tag == f"{SVG}svg"]  # in the page, no image to fetch
        assert svg.get("role") == "img"
        title, desc = (svg.find(f"{SVG}{tag}") for tag in ("title", "desc"))
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert "Samma siffror finns i tabellen nedan." in desc.text  # in the reader's language
        assert _text(figure.find("figcaption"))
        assert svg.find(f".//{SVG}polyline") is not None or svg.find(f".//{SVG}rect") is not None
    page = response.content.decode()
    assert page.index('id="progress-caption"') > page.index("<figure")
    assert "data:image" not in page and "<img" not in page.split("<main", 1)[-1]


def test_a_chart_is_also_a_file_of_its_own(steering_client, months_story):
    chart = steering_client.get("/overview/charts/stage-times.svg")

    assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    assert chart.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')


def test_a_chart_of_an_unknown_county_or_kind_is_not_found(steering_client, months_story):
    assert steering_client.get("/overview/charts/pie.svg").status_code == 404
    assert steering_client.get("/overview/charts/progress.svg?county=99").status_code == 404


def test_the_figures_say_so_when_no_process_has_started(steering_client, seeded):
    page = steering_client.get(OVERVIEW).content.decode()

    assert "<figure" not in page
    assert page.count("No process has started in this county yet.") == 2


# --- The municipality page --------------------------------------------------------------------


def test_municipality_page_shows_stages_decisions_and_latest_events(steering_client, months_story):
    with time_machine.travel(at("2026-05-15", 12), tick=False):
        response = steering_client.get(reverse("workflows:overview_municipality", args=["0780"]))
    page = response.content.decode()

    assert response.status_code == 200
    assert [row[0] for row in table(response, "stays-caption")[1:]] == [
        "Awaiting first contact",
        "In dialogue",
        "Draft being written",
        "Draft sent to the municipality",
        "Draft approved, awaiting decision",
        "Policy adopted",
    ]
    assert table(response, "comparison-caption")[1] == ["Awaiting first contact", "28", "35", "14"]
    # The same stages on one time line, drawn by the page (inline SVG, the days as text).
    timeline = _document(response).find(".//section[@aria-labelledby='stays-heading']/ol")
    assert [_text(li) for li in timeline][:2] == [
        "Awaiting first contact 28 days",
        "In dialogue 28 days",
    ]
    assert len(timeline.findall(f".//{SVG}svg")) == 6
    decision = table(response, "decisions-caption")[1]
    assert decision[:4] == ["Municipal council (KF)", "2026-04-20", "§ 57", "KS 2026/39"]
    assert "Decision recorded" in page  # the latest events, from the audit trail
    assert reverse("audit:municipality", args=[months_story.municipality.pk]) in page


def test_municipality_page_of_an_unknown_code_is_not_found(steering_client, seeded):
    url = reverse("workflows:overview_municipality", args=["9999"])

    assert steering_client.get(url).status_code == 404


# --- Who may read -----------------------------------------------------------------------------

PAGES = [
    ("workflows:overview", []),
    ("workflows:overview_report", []),
    ("workflows:overview_municipality", ["0780"]),
    ("workflows:overview_municipality_report", ["0780"]),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_steering_group_can_read_the_overview_and_reports(steering_client, name, args):
    assert steering_client.get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, seeded, name, args):
    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_a_user_without_a_role_may_not_read_the_overview(client, seeded, name, args):
    client.force_login(UserFactory(username="nora"))

    assert client.get(reverse(name, args=args)).status_code == 403


def test_the_overview_is_the_steering_groups_home_page(steering_client):
    response = steering_client.get(reverse("home"))

    assert response.status_code == 302 and response["Location"] == OVERVIEW


def test_project_leaders_keep_their_task_list_as_home_and_can_open_the_overview(leader_client):
    assert leader_client.get(reverse("home"))["Location"] == reverse("workflows:inbox")
    page = leader_client.get(OVERVIEW).content.decode()
    assert f'href="{OVERVIEW}"' in page  # in the main menu


def test_steering_group_member_added_later_sees_the_overview_in_the_menu(client, seeded):
    member = UserFactory(username="stina")
    member_of(member, "07", "steering")
    client.force_login(member)

    page = client.get(reverse("workflows:processes")).content.decode()

    assert f'<a href="{OVERVIEW}">Overview</a>' in page


# --- The follow-up report (PDF) ---------------------------------------------------------------


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    reader = PdfReader(io.BytesIO(content))
    # Table cells wrap their text: compare words, not lines.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_municipality_report_renders_with_its_name_and_decision_paragraph(
    steering_client, months_story
):
    response = steering_client.get(reverse("workflows:overview_municipality_report", args=["0780"]))
    text = pdf_text(response)

    assert 'filename="policyflow-vaxjo-' in response["Content-Disposition"]
    assert "Follow-up report: Växjö" in text
    assert "§ 57" in text and "KS 2026/39" in text
    assert "Decision recorded" in text  # its timeline
    assert "Draft approved, awaiting decision" in text  # its stages and time per stage


def test_county_report_renders_the_overview_decisions_and_milestones(steering_client, months_story):
    response = steering_client.get(reverse("workflows:overview_report"), {"county": "07"})
    text = pdf_text(response)

    assert "Follow-up report: Kronobergs län" in text
    for name in ("Växjö", "Alvesta", "Ljungby", "Uppvidinge"):
        assert name in text
    assert "§ 57" in text and "KS 2026/39" in text
    assert "Progress over time" in text and "Time spent per stage" in text
    assert "Stage changed" in text  # the milestones of the timeline


def test_report_shows_text_from_the_record_as_text(steering_client, leader, vaxjo):
    name = '<img src="http://127.0.0.1:9/x.png">'
    contact = ContactFactory(municipality=vaxjo, name=name)
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, contact, "approval")

    text = pdf_text(
        steering_client.get(reverse("workflows:overview_municipality_report", args=["0780"]))
    )

    # Shown as text (a line may break after a slash, where extraction adds a space).
    assert f"waitingfor{name}".replace(" ", "") in text.replace(" ", "")


def test_the_pdf_renderer_fetches_nothing_from_outside(seeded):
    """Whatever the report's HTML refers to, only the embedded figures are read."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        pdf = overview_report.html_to_pdf(
            f'<html lang="en"><head><title>t</title><link rel="stylesheet" href="{base}/a.css">'
            f'</head><body><p>Växjö</p><img src="{base}/b.png" alt="b">'
            '<img src="file:///etc/passwd" alt="c"></body></html>'
        )
    finally:
        server.shutdown()
        thread.join(timeout=5)

    assert requests == []
    assert "Växjö" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_a_chart_is_kept_by_the_browser_until_midnight_at_most(steering_client, months_story):
    source = reverse("workflows:overview_chart", args=["progress"]) + "?v=1"
    with time_machine.travel(at("2026-05-15", 21), tick=False):  # 23:00 in Sweden
        chart = steering_client.get(source)

    assert chart["Cache-Control"] == "private, max-age=3600"


# --- A municipality revising its adopted policy -----------------------------------------------


@pytest.fixture
def revising_vaxjo(leader):
    """Växjö adopted its policy (KF, 20 May 2026) and has started a revision, now in dialogue."""
    vera = contact_in("0780", "Vera Växjö")
    with time_machine.travel(at("2026-03-02"), tick=False):
        first = start("0780", leader)
    with time_machine.travel(at("2026-05-20"), tick=False):
        services.record_decision(
            task=walk_to(first, leader, vera, "decision"), user=leader, **decision_fields()
        )
    with time_machine.travel(at("2026-09-01"), tick=False):
        revision = start("0780", leader)
        walk_to(revision, leader, vera, "dialogue")
    return revision


def test_the_board_shows_an_adopted_policy_beside_its_revision(steering_client, revising_vaxjo):
    steering_client.cookies["django_language"] = "sv"
    with time_machine.travel(at("2026-09-11"), tick=False):
        response = steering_client.get(OVERVIEW)

    row = board_rows(response)["0780"]
    assert row["column"] == "Dialog pågår"
    assert row["cell"] == "● Revidering: 10 dagar"
    (vaxjo,) = [tr for tr in _document(response).iter("tr") if tr.get("id") == "municipality-0780"]
    (adopted,) = [td for td in vaxjo if td.get("class") == "earlier"]
    # "Policyn antagen: " names the column where the board is cards (a phone).
    assert _text(adopted).endswith("antagen 2026-05-20")


def test_an_adopted_revision_is_the_policy_and_no_longer_called_a_revision(
    steering_client, leader, revising_vaxjo
):
    vera = revising_vaxjo.municipality.contacts.get(name="Vera Växjö")
    with time_machine.travel(at("2026-10-05"), tick=False):
        services.record_decision(
            task=walk_to(revising_vaxjo, leader, vera, "decision"),
            user=leader,
            **decision_fields(),
        )
        steering_client.cookies["django_language"] = "sv"
        response = steering_client.get(OVERVIEW)

    row = board_rows(response)["0780"]
    assert row["column"] == "Policyn antagen"
    assert "Revidering" not in row["cell"]
    (vaxjo,) = [tr for tr in _document(response).iter("tr") if tr.get("id") == "municipality-0780"]
    assert [td for td in vaxjo if td.get("class") == "earlier"] == []


def test_time_in_each_stage_counts_processes_and_says_so(steering_client, revising_vaxjo):
    with time_machine.travel(at("2026-09-11"), tick=False):
        rows = table(steering_client.get(OVERVIEW), "stage-times-caption")

    assert rows[0][:2] == ["Stage", "Processes"]
    # Växjö's two processes have both waited for a first contact: two processes, one town.
    assert rows[1][:2] == ["Awaiting first contact", "2"]
