"""What a Swedish reader sees on the leader's pages: the process page leads with a summary card,
buttons say what they do, a step opens the next one, and the lists can be searched."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from municipalities.models import Municipality
from tests.factories import ContactFactory
from workflows import services

from .helpers import current_task, open_task, valid_step_data, visible_text, walk_to

pytestmark = pytest.mark.django_db


def main_of(response) -> str:
    return visible_text(response).split("Hoppa till innehållet", 1)[-1]


@pytest.fixture
def process(leader, vaxjo):
    return services.start_process(municipality=vaxjo, user=leader)


def test_the_process_page_opens_with_a_summary_card_and_the_one_next_action(leader_client, process):
    page = leader_client.get(reverse("workflows:process", args=[process.pk]))
    html = page.content.decode()
    shown = visible_text(page)

    card = html[html.index('class="card summary-card"') : html.index("</section>")]
    assert 'class="badge badge-contact">Väntar på första kontakt</span>' in card
    assert "Dagar i det här skedet 0 dagar (sedan" in visible_text(card)
    assert "Ligger hos Pia Projektledare" in visible_text(card)
    step = reverse("workflows:step", args=[open_task(process, "contact").pk])
    assert re.search(
        rf'<a class="button" href="{step}">\s*Registrera första kontakten\s*</a>', card
    )
    # The card comes before every record of the process, which fold away below it.
    assert shown.index("Nästa steg") < shown.index("Kontakt och möten") < shown.index("Historik")
    assert html.count('<details class="panel"') >= 5


def test_the_steps_are_a_swedish_list_with_the_current_one_marked(
    leader_client, leader, process, vaxjo_contact
):
    walk_to(process, leader, vaxjo_contact, "approval")

    shown = visible_text(leader_client.get(reverse("workflows:process", args=[process.pk])))

    steps = shown[shown.index("Processen steg för steg") :]
    assert (
        "Registrera första kontakt Dialog med kommunen Skriv utkastet Begär godkännande "
        "Godkännande av kommunens kontaktperson (nu)"
    ) in steps.replace(" (klart)", "")
    assert "Ligger hos väntar på Vera Växjö" in shown
    for english_or_title_case in ("yes", "no ", "Första Kontakt", "Approved"):
        assert english_or_title_case not in steps[:300]


def test_each_step_button_says_what_it_does(leader_client, leader, process, vaxjo_contact):
    def button(task) -> str:
        html = leader_client.get(reverse("workflows:step", args=[task.pk])).content.decode()
        return visible_text(
            re.search(r'<button type="submit" class="button">(.*?)</button>', html, re.S)[1]
        )

    assert button(open_task(process, "contact")) == "Registrera första kontakten"
    assert button(walk_to(process, leader, vaxjo_contact, "dialogue")) == (
        "Dialogen är klar: skriv utkastet"
    )
    assert button(walk_to(process, leader, vaxjo_contact, "draft")) == "Spara som version 1"
    assert button(walk_to(process, leader, vaxjo_contact, "request_approval")) == (
        "Skicka utkastet till Växjö"
    )
    assert button(walk_to(process, leader, vaxjo_contact, "decision")) == "Registrera beslutet"


def test_the_decision_form_guesses_neither_the_body_nor_the_outcome(
    leader_client, leader, process, vaxjo_contact
):
    task = walk_to(process, leader, vaxjo_contact, "decision")
    html = leader_client.get(reverse("workflows:step", args=[task.pk])).content.decode()

    for field in ("body", "outcome"):
        select = re.search(rf'<select name="{field}".*?</select>', html, re.S).group(0)
        assert '<option value="" selected>Välj …</option>' in select
        assert select.count("selected") == 1

    data = valid_step_data("decision", vaxjo_contact) | {"outcome": ""}
    response = leader_client.post(reverse("workflows:step", args=[task.pk]), data)
    assert response.status_code == 400
    assert current_task(process).pk == task.pk  # nothing recorded


def test_finishing_a_step_opens_the_next_one(leader_client, process, vaxjo_contact):
    task = open_task(process, "contact")

    response = leader_client.post(
        reverse("workflows:step", args=[task.pk]), valid_step_data("contact", vaxjo_contact)
    )

    assert response.url == reverse("workflows:step", args=[open_task(process, "dialogue").pk])


def test_the_dialogue_step_records_a_meeting_and_comes_back_to_itself(
    leader_client, leader, process, vaxjo_contact
):
    task = walk_to(process, leader, vaxjo_contact, "dialogue")
    step = reverse("workflows:step", args=[task.pk])
    page = leader_client.get(step)
    assert "Inga möten har registrerats ännu." in visible_text(page)

    response = leader_client.post(
        reverse("workflows:add_meeting", args=[process.pk]),
        {"held_on": timezone.localdate().isoformat(), "participants": "Vera, Pia", "next": step},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == step
    shown = visible_text(response)
    assert "Mötet har registrerats." in shown and "Vera, Pia" in shown
    # An address elsewhere is not followed.
    response = leader_client.post(
        reverse("workflows:add_meeting", args=[process.pk]),
        {"held_on": "2026-01-02", "participants": "Bo", "next": "https://example.com/"},
    )
    assert response.url == reverse("workflows:process", args=[process.pk])


def test_the_draft_step_shows_the_requested_changes_beside_the_text(
    leader_client, leader, process, vaxjo_contact
):
    services.answer_approval(
        task=walk_to(process, leader, vaxjo_contact, "approval"),
        contact=vaxjo_contact,
        answer="changes_requested",
        comment="Nämn praktikplatserna.",
    )

    page = leader_client.get(reverse("workflows:step", args=[open_task(process, "draft").pk]))

    shown = visible_text(page)
    assert "Ändringar som begärdes i version 1 Nämn praktikplatserna. Vera Växjö" in shown
    assert "Spara som version 2" in shown


@pytest.fixture
def two_processes(leader, vaxjo, vaxjo_contact):
    almhult = Municipality.objects.get(code="0765")
    services.start_process(municipality=vaxjo, user=leader)
    other = services.start_process(municipality=almhult, user=leader)
    walk_to(other, leader, ContactFactory(municipality=almhult), "dialogue")
    return vaxjo, almhult


def test_the_task_list_finds_a_municipality_by_name(leader_client, two_processes):
    page = leader_client.get(reverse("workflows:inbox"), {"q": "älm"})

    rows = main_of(page)
    assert "Älmhult" in rows and "Växjö" not in rows
    assert 'class="badge badge-dialogue">Dialog pågår</span>' in page.content.decode()
    nothing = leader_client.get(reverse("workflows:inbox"), {"q": "Kiruna"})
    assert "Inget öppet steg i en kommun som matchar ”Kiruna”." in visible_text(nothing)


def test_the_process_list_filters_by_municipality_and_stage(leader_client, two_processes):
    url = reverse("workflows:processes")

    by_name = main_of(leader_client.get(url, {"q": "väx"}))
    by_stage = main_of(leader_client.get(url, {"stage": "dialogue"}))
    by_code = main_of(leader_client.get(url, {"q": "0765"}))

    assert "Växjö" in by_name and "Älmhult" not in by_name
    assert "Älmhult" in by_stage and "Växjö" not in by_stage
    assert "Älmhult 0765 Kronobergs län Dialog pågår" in by_code
    assert "Ingen process matchar sökningen." in main_of(leader_client.get(url, {"q": "Kiruna"}))
