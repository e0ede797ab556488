"""Municipal contacts answer through emailed task links: safely, once, and only their own task."""

import datetime
import re
import threading

import html5lib
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from audit.models import AuditEvent, Kind
from tests.factories import ContactFactory
from workflows import services, task_links
from workflows.link_views import DEAD_LINK_MESSAGES, NO_SESSION, RECEIPT_SESSION_KEY, SESSION_KEY
from workflows.models import ApprovalAnswer, PolicyDraft, PolicyProcess, Stage, TaskLink

from .helpers import open_task, walk_to, walk_to_approval

pytestmark = pytest.mark.django_db


def state():
    """Everything an answer could change: rows, history rows, task and link states."""
    with connection.cursor() as cursor:
        counts = {}
        for table in (
            "workflows_approvalanswer",
            "workflows_historicalapprovalanswer",
            "workflows_historicalpolicyprocess",
            "workflows_historicaltask",
            "workflows_tasklink",
            "viewflow_task",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]
    return (
        counts,
        list(PolicyProcess.objects.values_list("pk", "stage", "status")),
        list(TaskLink.objects.values_list("pk", "used_at", "revoked_at")),
        list(PolicyProcess.objects.values_list("task__pk", "task__status").order_by("task__pk")),
    )


def says(response, reason: str, language: str = "sv") -> bool:
    """Whether the dead-link page shows the message for ``reason`` (in the contact's language)."""
    with translation.override(language):
        return escape(str(DEAD_LINK_MESSAGES[reason])) in response.content.decode()


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def link_path(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1:8000" in url else url


@pytest.fixture
def started(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to_approval(process, leader, vaxjo_contact)
    return process


@pytest.fixture
def link(started):
    """The first link of the Växjö approval task, with its URL (the token is in it)."""
    item = TaskLink.objects.get(process=started)
    return item


def issue_fresh(process, contact, leader):
    return task_links.reissue_link(process=process, contact=contact, user=leader)


def opened_client(url: str) -> Client:
    client = Client()
    response = client.get(link_path(url))
    assert response.status_code == 302 and response.url == reverse("workflows:link_answer")
    return client


def test_request_approval_creates_one_link_per_contact_with_only_the_hash_stored(
    leader, vaxjo, vaxjo_contact, settings
):
    second = ContactFactory(municipality=vaxjo, name="Sam Second")
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(
        process, leader, vaxjo_contact, "request_approval", approvers=[vaxjo_contact, second]
    )
    issued = services.request_approval(task=task, user=leader, approvers=[vaxjo_contact, second])
    assert {i.link.contact for i in issued} == {vaxjo_contact, second}
    for item in issued:
        token = item.url.split("?t=", 1)[1]
        assert item.url.startswith(settings.SITE_URL + "/l/open/?t=")
        assert len(token) >= 43
        stored = TaskLink.objects.get(pk=item.link.pk)
        assert stored.token_hash == task_links.hash_token(token) and token not in stored.token_hash
        assert stored.expires_at - stored.created_at == datetime.timedelta(days=30)
        history = stored.history.values()
        assert all(token not in str(row) for row in history)


def test_link_is_built_from_site_url_not_the_request_host(leader_client, started, settings):
    settings.SITE_URL = "https://policyflow.regionkronoberg.se"
    settings.ALLOWED_HOSTS = ["*"]
    task = open_task(started, "approval")
    response = leader_client.post(
        reverse("workflows:issue_link", args=[started.pk]),
        {"contact": started.approvers.get().pk},
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 200
    assert "https://policyflow.regionkronoberg.se/l/open/?t=" in response.content.decode()
    assert "evil.example" not in response.content.decode()
    assert open_task(started, "approval") == task


def test_contact_requests_changes_then_approves_through_links_end_to_end(
    leader, leader_client, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to_approval(process, leader, vaxjo_contact)
    # The project leader sends a fresh link and sees it once on the page.
    page = leader_client.post(
        reverse("workflows:issue_link", args=[process.pk]), {"contact": vaxjo_contact.pk}
    ).content.decode()
    url = re.search(r'id="link-\d+" value="([^"]+)"', page).group(1)
    before = state()

    contact = Client()
    response = contact.get(link_path(url))
    assert response.status_code == 302 and response.url == "/l/"
    assert "Referrer-Policy" in response and response["Referrer-Policy"] == "no-referrer"
    page = contact.get("/l/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "same-origin"
    assert "Växjö" in page.content.decode()
    # GET changed no workflow state (only "first fetched" and "first opened" on the link).
    after = state()
    assert after[0]["workflows_approvalanswer"] == before[0]["workflows_approvalanswer"]
    assert open_task(process, "approval")

    response = contact.post(
        "/l/", {"answer": "changes_requested", "comment": "Lägg till IOP-avsnittet."}
    )
    assert response.status_code == 303 and response.url == reverse("workflows:link_receipt")
    assert ApprovalAnswer.objects.get().via_link is not None
    process.refresh_from_db()
    assert process.stage == Stage.DRAFTING

    services.write_draft(
        task=open_task(process, "draft"),
        user=leader,
        competition_section="Konkurrens med IOP",
        customer_section="Kund",
    )
    (new,) = services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[vaxjo_contact]
    )
    # The old link is dead now.
    assert contact.get(link_path(url)).status_code == 410

    second = opened_client(new.url)
    page = second.get("/l/").content.decode()
    assert "<ins>" in page and "IOP" in page  # what changed since v1, which the contact saw
    response = second.post("/l/", {"answer": "approved"})
    assert response.status_code == 303
    process.refresh_from_db()
    assert process.stage == Stage.AWAITING_DECISION
    assert open_task(process, "decision")
    answer = ApprovalAnswer.objects.latest("answered_at")
    assert answer.contact == vaxjo_contact and answer.via_link == new.link
    assert answer.history.get().history_change_reason


def test_random_or_tampered_tokens_show_the_same_calm_page_and_change_nothing(started, link):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    token = issued.url.split("?t=", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    before = state()
    random_page = Client().get("/l/open/", {"t": "x" * 43})
    tampered_page = Client().get("/l/open/", {"t": flipped})
    assert random_page.status_code == tampered_page.status_code == 404
    assert without_csrf(random_page) == without_csrf(tampered_page)
    assert says(random_page, "unknown")
    assert "Länken är ogiltig" in random_page.content.decode()
    assert state() == before


def test_expired_link_is_refused_and_changes_nothing(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    before = state()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        page = Client().get(link_path(issued.url))
        response = client.post("/l/", {"answer": "approved"})
    assert page.status_code == 410
    assert says(page, "expired")
    assert "Länken har slutat gälla" in page.content.decode()
    assert response.status_code in (400, 410)  # the session may be gone too: refused either way
    assert state() == before


def test_answer_page_without_an_opened_link_asks_to_open_the_email_link_again(started):
    response = Client().get("/l/")
    assert response.status_code == 400
    assert says(response, NO_SESSION)
    assert "Öppna länken i mejlet igen" in response.content.decode()


def test_link_cannot_be_reused_after_a_successful_answer(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    assert (
        client.post("/l/", {"answer": "changes_requested", "comment": "Mer text"}).status_code
        == 303
    )
    before = state()
    assert Client().get(link_path(issued.url)).status_code == 410
    stale = opened_client_or_none(issued.url)
    assert stale is None
    assert state() == before


def opened_client_or_none(url):
    client = Client()
    response = client.get(link_path(url))
    return client if response.status_code == 302 else None


def test_revoked_link_is_refused_and_changes_nothing(started, leader):
    issued = issue_fresh(started, started.approvers.get(), leader)
    client = opened_client(issued.url)
    task_links.revoke_link(link=issued.link, user=leader, reason="Fel mottagare")
    before = state()
    assert client.post("/l/", {"answer": "approved"}).status_code == 410
    assert Client().get(link_path(issued.url)).status_code == 410
    assert state() == before


def test_a_link_only_answers_its_own_task(started, leader, seeded):
    from municipalities.models import Municipality

    ljungby = Municipality.objects.get(code="0781")
    ljungby_contact = ContactFactory(municipality=ljungby)
    other = services.start_process(municipality=ljungby, user=leader)
    walk_to_approval(other, leader, ljungby_contact)
    ljungby_link = issue_fresh(other, ljungby_contact, leader)
    vaxjo_link = issue_fresh(started, started.approvers.get(), leader)

    # The Ljungby link's session cannot reach Växjö's task: the answer lands on Ljungby only.
    client = opened_client(ljungby_link.url)
    client.post("/l/", {"answer": "approved"})
    started.refresh_from_db()
    assert started.stage == Stage.AWAITING_APPROVAL
    assert open_task(started, "approval")
    assert not ApprovalAnswer.objects.filter(process=started).exists()
    # And a Ljungby contact can never be given a link to Växjö's task.
    before = state()
    with translation.override("en"), pytest.raises(Exception, match="active contacts of this"):
        issue_fresh(started, ljungby_contact, leader)
    assert state() == before
    assert opened_client(vaxjo_link.url)


def test_a_thousand_gets_change_nothing(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)  # the first GET records "first fetched"
    client.get("/l/")  # the first view records "first opened"
    before = state()
    for _ in range(500):
        assert client.get("/l/").status_code == 200
        assert Client().get(link_path(issued.url)).status_code == 302
    assert state() == before
    assert open_task(started, "approval")


def test_post_without_csrf_token_is_refused(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = Client(enforce_csrf_checks=True)
    client.get(link_path(issued.url))
    before = state()
    assert client.post("/l/", {"answer": "approved"}).status_code == 403
    assert state() == before


def test_post_after_the_leader_recorded_the_answer_another_way(started, leader_client):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    response = leader_client.post(
        reverse("workflows:record_answer", args=[started.pk]),
        {"contact": started.approvers.get().pk, "answer": "approved"},
    )
    assert response.status_code == 302
    before = state()
    response = client.post("/l/", {"answer": "changes_requested", "comment": "För sent"})
    assert response.status_code == 410
    assert state() == before
    assert ApprovalAnswer.objects.get().recorded_by is not None


def test_changes_requested_without_comment_shows_the_field_error(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    before = state()
    response = client.post("/l/", {"answer": "changes_requested", "comment": " "})
    assert response.status_code == 400
    assert 'id="id_comment_error"' in response.content.decode()
    assert state() == before


def test_link_pages_are_valid_html_with_labelled_form_fields(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    pages = [
        client.get("/l/"),
        client.post("/l/", {"answer": "changes_requested"}),
        Client().get("/l/open/?t=unknown-token"),
        client.post("/l/", {"answer": "approved"}, follow=True),
    ]
    for response in pages:
        html = response.content.decode()
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        document = parser.parse(html)
        fields = [e for e in document.iter() if e.tag in ("input", "textarea", "select")]
        for field in fields:
            if field.get("type") in ("hidden", "submit"):
                continue
            assert document.find(f".//label[@for='{field.get('id')}']") is not None, field.attrib


def test_link_page_is_in_the_contacts_language(started):
    contact = started.approvers.get()
    contact.language = "en"
    contact.save()
    issued = issue_fresh(started, contact, started.lead)
    client = opened_client(issued.url)
    page = client.get("/l/").content.decode()
    assert '<html lang="en">' in page


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_approvals_on_one_link_complete_once(seeded, leader, vaxjo):
    contact = ContactFactory(municipality=vaxjo)
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to_approval(process, leader, contact)
    issued = issue_fresh(process, contact, leader)
    clients = [opened_client(issued.url) for _ in range(20)]
    barrier = threading.Barrier(20)
    statuses = []

    def answer(client):
        try:
            barrier.wait()
            statuses.append(client.post("/l/", {"answer": "approved"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [303] + [410] * 19
    assert ApprovalAnswer.objects.filter(process=process).count() == 1
    assert open_task(process, "decision")
    assert PolicyDraft.objects.filter(process=process).count() == 1
    assert SESSION_KEY


# --- Losing the race keeps the typed comment (#12.10) ------------------------------------------


LONG_COMMENT = "Stryk stycket om <reserverad> upphandling & lägg till IOP.\nAndra raden."


def shows_comment_back(response) -> bool:
    document = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
    area = document.find(".//textarea[@id='unsaved-comment']")
    return area is not None and area.text == LONG_COMMENT


@pytest.mark.parametrize("race", ["replaced", "revoked", "answered_another_way"])
def test_a_contact_who_loses_the_race_gets_the_typed_comment_back(
    started, leader, leader_client, race
):
    contact = started.approvers.get()
    issued = issue_fresh(started, contact, leader)
    client = opened_client(issued.url)
    client.get("/l/")  # the form is on the screen while the contact types
    if race == "replaced":
        issue_fresh(started, contact, leader)
    elif race == "revoked":
        task_links.revoke_link(link=issued.link, user=leader, reason="Fel mottagare")
    else:
        leader_client.post(
            reverse("workflows:record_answer", args=[started.pk]),
            {"contact": contact.pk, "answer": "approved"},
        )
    before = state()
    response = client.post("/l/", {"answer": "changes_requested", "comment": LONG_COMMENT})
    assert response.status_code == 410
    page = response.content.decode()
    assert "Din kommentar har inte sparats" in page
    assert shows_comment_back(response)
    # How to reach the project leader, with the text in hand.
    assert f'href="mailto:{leader.email}"' in page
    assert state() == before
    assert not ApprovalAnswer.objects.filter(comment=LONG_COMMENT).exists()


def test_a_comment_posted_after_the_session_ended_is_shown_back(started):
    response = Client().post("/l/", {"answer": "changes_requested", "comment": LONG_COMMENT})
    assert response.status_code == 400
    assert shows_comment_back(response)


# --- The thank-you page: POST-redirect-GET (#12.11) --------------------------------------------


def test_refreshing_the_thank_you_page_sends_nothing_again_and_back_shows_it_too(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    response = client.post("/l/", {"answer": "changes_requested", "comment": "Mer om IOP"})
    assert response.status_code == 303
    receipt = client.get(response.url)
    assert receipt.status_code == 200
    assert "Tack, vi har fått ditt svar" in receipt.content.decode()
    assert "no-store" in receipt["Cache-Control"]
    before = state()
    # Refresh: the browser repeats the GET, not the POST.
    again = client.get(response.url)
    assert again.status_code == 200 and "Tack, vi har fått ditt svar" in again.content.decode()
    # Back: the answer page leads to the receipt, not to "Länken kan inte användas".
    back = client.get("/l/", follow=True)
    assert back.status_code == 200
    assert "Tack, vi har fått ditt svar" in back.content.decode()
    assert "Länken kan inte användas" not in back.content.decode()
    assert state() == before
    assert ApprovalAnswer.objects.filter(process=started).count() == 1


def test_the_thank_you_page_is_only_for_the_browser_that_answered(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    url = client.post("/l/", {"answer": "approved"}).url
    stranger = Client().get(url)
    assert stranger.status_code == 400
    assert "Tack, vi har fått ditt svar" not in stranger.content.decode()


def test_the_receipt_survives_a_refresh_but_a_shared_computer_does_not_show_it_later(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    receipt = client.post("/l/", {"answer": "changes_requested", "comment": "Mer om IOP"}).url
    thanks = "Tack, vi har fått ditt svar"
    assert thanks in client.get(receipt).content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert thanks in client.get(receipt).content.decode()  # a refresh, just after

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10)):
        later = client.get(receipt)
        assert later.status_code == 400 and thanks not in later.content.decode()
        assert RECEIPT_SESSION_KEY not in client.session
        back = client.get("/l/", follow=True)
        assert thanks not in back.content.decode()


# --- A fetch is not an opening (#12.9) ---------------------------------------------------------


def trail(client, process) -> str:
    return client.get(reverse("audit:process", args=[process.pk])).content.decode()


def test_a_mail_scanners_fetch_is_a_fetch_and_only_the_page_shown_is_the_contact_opening_it(
    started, leader, leader_client
):
    kim = ContactFactory(municipality=started.municipality, name="Kim Kontakt")
    issued = issue_fresh(started, kim, leader)
    opened = "Uppgiftslänk till Kim Kontakt visad i en webbläsare"

    # The mail system scans the email: it fetches the URL and keeps no session.
    assert Client().get(link_path(issued.url)).status_code == 302
    page = trail(leader_client, started)
    assert "Uppgiftslänk till Kim Kontakt hämtad" in page
    assert opened not in page
    issued.link.refresh_from_db()
    assert issued.link.status() == "fetched" and issued.link.first_opened_at is None

    # Kim clicks the link: the browser follows the redirect and the draft is shown.
    browser = opened_client(issued.url)
    assert opened not in trail(leader_client, started)
    assert browser.get("/l/").status_code == 200
    assert browser.get("/l/").status_code == 200
    assert opened in trail(leader_client, started)
    assert AuditEvent.objects.filter(kind=Kind.LINK_OPENED, process_id=started.pk).count() == 1
    issued.link.refresh_from_db()
    assert issued.link.status() == "opened"
    process_page = leader_client.get(reverse("workflows:process", args=[started.pk]))
    assert "Öppnad" in process_page.content.decode()


def test_a_fetched_link_can_be_revoked_from_the_process_page(started, leader, leader_client):
    kim = ContactFactory(municipality=started.municipality, name="Kim Kontakt")
    issued = issue_fresh(started, kim, leader)
    assert Client().get(link_path(issued.url)).status_code == 302  # a mail scanner's fetch
    revoke_url = reverse("workflows:revoke_link", args=[started.pk, issued.link.pk])
    process_page = leader_client.get(reverse("workflows:process", args=[started.pk]))
    assert f'action="{revoke_url}"' in process_page.content.decode()

    response = leader_client.post(revoke_url, {"reason": "Fel mottagare"})
    assert response.status_code == 302
    issued.link.refresh_from_db()
    assert issued.link.status() == "revoked"
    assert "Fel mottagare" in leader_client.get(response.url).content.decode()
    assert opened_client_or_none(issued.url) is None


def test_a_version_only_a_scanner_fetched_is_not_what_the_contact_saw(started, leader):
    contact = started.approvers.get()
    first = issue_fresh(started, contact, leader)
    Client().get(link_path(first.url))  # fetched, never shown
    services.answer_approval(
        task=open_task(started, "approval"),
        contact=contact,
        answer="changes_requested",
        comment="Per telefon",
    )
    services.write_draft(
        task=open_task(started, "draft"),
        user=leader,
        competition_section="Konkurrens med IOP",
        customer_section="Kund",
    )
    (second,) = services.request_approval(
        task=open_task(started, "request_approval"), user=leader, approvers=[contact]
    )
    page = opened_client(second.url).get("/l/").content.decode()
    assert "Vad som har ändrats sedan version" not in page and "<ins>" not in page


def test_the_form_sent_twice_shows_the_receipt_and_a_different_text_is_given_back(started):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    client = opened_client(issued.url)
    answer = {"answer": "changes_requested", "comment": "Mer om IOP"}
    assert client.post("/l/", answer).status_code == 303
    before = state()
    # A double click (or Back and send again): the same answer is already recorded.
    again = client.post("/l/", answer)
    assert again.status_code == 303 and again.url == reverse("workflows:link_receipt")
    # Back, the text changed, and sent again: refused, and the new text is given back.
    changed = client.post("/l/", {"answer": "changes_requested", "comment": LONG_COMMENT})
    assert changed.status_code == 400 and shows_comment_back(changed)
    assert state() == before
    assert ApprovalAnswer.objects.get(process=started).comment == "Mer om IOP"


def test_a_repeat_of_the_recorded_answer_is_not_called_lost_but_another_text_is_given_back(
    started,
):
    issued = issue_fresh(started, started.approvers.get(), started.lead)
    first, second, third = (opened_client(issued.url) for _ in range(3))
    answer = {"answer": "changes_requested", "comment": "Mer om IOP"}
    assert first.post("/l/", answer).status_code == 303
    repeat = second.post("/l/", answer)  # the click that arrived second
    assert repeat.status_code == 410 and says(repeat, "used")
    assert "Din kommentar har inte sparats" not in repeat.content.decode()
    other = third.post("/l/", {"answer": "changes_requested", "comment": LONG_COMMENT})
    assert other.status_code == 410 and shows_comment_back(other)
