"""The project leader's inbox: each open step is due when its stage's limit runs out, the limit
an administrator sets (StageLimit), most urgent first, 25 steps to a page."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from municipalities.models import Municipality
from tests.factories import member_of
from workflows import services
from workflows.models import StageLimit

from .helpers import english, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

INBOX = reverse("workflows:inbox")


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=9, tzinfo=datetime.UTC)


def start(code: str, leader, day: str):
    with time_machine.travel(at(day), tick=False):
        return services.start_process(municipality=Municipality.objects.get(code=code), user=leader)


def due_dates(page: str) -> dict[str, str]:
    """The due date of each open step in the inbox's table, by municipality name."""
    rows = re.findall(
        r'<tr>\s*<td><time datetime="([\d-]+)">.*?</time></td>\s*<td><a [^>]*>([^<]+)</a>',
        page,
        re.S,
    )
    return {name: day for day, name in rows}


def test_a_step_is_due_when_its_stages_limit_runs_out(leader_client, leader):
    start("0780", leader, "2026-01-05")  # waits for its first contact: 14 days by default

    assert due_dates(leader_client.get(INBOX).content.decode()) == {"Växjö": "2026-01-19"}


def test_changing_a_stage_limit_changes_the_inbox_due_date(leader_client, leader):
    start("0780", leader, "2026-01-05")
    limit = StageLimit.objects.get(stage="contact")
    limit.days = 30
    limit.save()

    assert due_dates(leader_client.get(INBOX).content.decode()) == {"Växjö": "2026-02-04"}


def set_limit(stage: str, *, days: int) -> None:
    """As an administrator does it (the change is recorded, so pages show it at once)."""
    limit = StageLimit.objects.get(stage=stage)
    limit.days = days
    limit.save()


def test_the_draft_waiting_for_the_municipality_is_due_with_its_stage_limit(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = start("0780", leader, "2026-01-05")
    with time_machine.travel(at("2026-03-02"), tick=False):
        walk_to(process, leader, vaxjo_contact, "approval")  # sent on 2 March
    set_limit("awaiting_approval", days=10)

    page = " ".join(leader_client.get(INBOX).content.decode().split())

    assert 'waiting for approval by Vera Växjö (due <time datetime="2026-03-12">' in page


def test_the_step_whose_stage_limit_runs_out_first_comes_first(
    leader_client, leader, vaxjo_contact
):
    vaxjo = start("0780", leader, "2026-01-05")
    with time_machine.travel(at("2026-01-12"), tick=False):
        walk_to(vaxjo, leader, vaxjo_contact, "dialogue")  # in dialogue: due 12 April
    start("0764", leader, "2026-01-12")  # Alvesta waits for its first contact: due 26 January
    assert list(due_dates(leader_client.get(INBOX).content.decode())) == ["Alvesta", "Växjö"]

    set_limit("dialogue", days=7)  # Växjö: due 19 January

    assert list(due_dates(leader_client.get(INBOX).content.decode())) == ["Växjö", "Alvesta"]


def test_a_step_in_a_stage_without_a_limit_has_no_due_date_and_comes_last(
    leader_client, leader, vaxjo_contact
):
    vaxjo = start("0780", leader, "2026-01-05")
    with time_machine.travel(at("2026-01-12"), tick=False):
        walk_to(vaxjo, leader, vaxjo_contact, "dialogue")
    start("0764", leader, "2026-01-12")
    StageLimit.objects.filter(stage="dialogue").delete()

    page = leader_client.get(INBOX).content.decode()

    assert due_dates(page) == {"Alvesta": "2026-01-26"}
    assert re.search(r"<tr>\s*<td>–</td>\s*<td><a [^>]*>Växjö</a>", page)
    assert page.index(">Alvesta<") < page.index(">Växjö<")


def test_the_inbox_shows_25_steps_to_a_page(leader_client, leader):
    for code in ("01", "03"):  # Stockholm's and Uppsala's too: 30 municipalities
        member_of(leader, code, "leader")
    for municipality in Municipality.objects.order_by("code")[:30]:
        services.start_process(municipality=municipality, user=leader)

    first = leader_client.get(INBOX).content.decode()
    second = leader_client.get(INBOX, {"page": 2}).content.decode()

    steps = r'href="/tasks/\d+/"'
    assert len(re.findall(steps, first)) == 25 and len(re.findall(steps, second)) == 5
    assert "Page 1 of 2" in first and 'rel="next"' in first
