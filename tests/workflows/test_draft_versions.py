"""The leader compares any two versions of a draft: what changed, paragraph by paragraph."""

import pytest
from django.urls import reverse

from workflows import services

from .helpers import open_task, walk_to

pytestmark = pytest.mark.django_db

FIRST = "Kommunen köper tjänster av ASF.\n\nReserverad upphandling prövas."
SECOND = (
    "Kommunen köper tjänster av ASF.\n\nReserverad upphandling används vid varje ny upphandling."
)


def drafts(leader, municipality, contact, *texts):
    """A process whose draft was written once per text (the contact asking for changes between)."""
    process = services.start_process(municipality=municipality, user=leader)
    for number, text in enumerate(texts):
        task = (
            walk_to(process, leader, contact, "draft")
            if number == 0
            else open_task(process, "draft")
        )
        services.write_draft(
            task=task, user=leader, competition_section=text, customer_section="Kundperspektiv."
        )
        if number < len(texts) - 1:
            services.answer_approval(
                task=walk_to(process, leader, contact, "approval"),
                contact=contact,
                answer="changes_requested",
                comment="Skärp stycke två.",
            )
    return process


def page(client, process, version, compare=None):
    url = reverse("workflows:draft", args=[process.pk, version])
    return client.get(url, {"compare": compare} if compare is not None else {})


def test_the_leader_sees_what_changed_between_two_versions_in_swedish(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)

    body = page(leader_client, process, 2, compare=1).content.decode()

    assert "Ändringar från version 1 till version 2" in body
    # The unchanged paragraph stays whole; the changed sentence is removed and added whole.
    assert "<del>prövas.</del>" in body or "<del>Reserverad upphandling prövas.</del>" in body
    assert "<ins>" in body and "varje ny upphandling" in body
    assert "Kommunen köper tjänster av ASF." in body
    # The customer section did not change.
    assert "Inga ändringar." in body


def test_the_comparison_reads_the_same_from_either_version(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)

    from_new = page(leader_client, process, 2, compare=1).content.decode()
    from_old = page(leader_client, process, 1, compare=2).content.decode()

    assert "Ändringar från version 1 till version 2" in from_old
    section = from_new.split('id="comparison-heading"')[1].split("</section>")[0]
    assert section in from_old


def test_the_process_page_links_each_revision_to_what_changed(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)

    body = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    url = reverse("workflows:draft", args=[process.pk, 2])
    assert f'href="{url}?compare=1">vad som har ändrats' in body


@pytest.mark.parametrize("compare", ["7", "x", "2"])
def test_an_unknown_version_shows_the_draft_without_a_comparison(
    leader_client, leader, vaxjo, vaxjo_contact, compare
):
    process = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)

    response = page(leader_client, process, 2, compare=compare)

    assert response.status_code == 200
    assert "Ändringar från version" not in response.content.decode()


def test_another_countys_leader_cannot_compare(client, leader, kalmar_leader, vaxjo, vaxjo_contact):
    process = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)
    client.force_login(kalmar_leader)

    assert page(client, process, 2, compare=1).status_code == 404


def test_the_comparison_page_runs_the_same_queries_with_more_versions(
    leader_client, leader, vaxjo, vaxjo_contact, django_assert_max_num_queries
):
    few = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)
    from municipalities.models import Municipality

    alvesta = Municipality.objects.get(code="0764")
    from tests.factories import ContactFactory

    many = drafts(
        leader,
        alvesta,
        ContactFactory(municipality=alvesta),
        *[f"{FIRST} Version {n}." for n in range(5)],
    )
    page(leader_client, few, 2, compare=1)  # warm the session and permissions
    with django_assert_max_num_queries(20) as small:
        page(leader_client, few, 2, compare=1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page(leader_client, many, 5, compare=1)


def test_the_versions_stand_side_by_side_the_earlier_with_its_removals_the_later_with_its_additions(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = drafts(leader, vaxjo, vaxjo_contact, FIRST, SECOND)

    body = page(leader_client, process, 2, compare=1).content.decode()

    columns = body.split('class="diff-columns"')[1].split("</div>\n</div>")[0]
    before, now = columns.split("Nu (version 2)")
    assert "Förut (version 1)" in before
    assert "<del>" in before and "<ins>" not in before
    assert "<ins>" in now and "<del>" not in now and "varje ny upphandling" in now
