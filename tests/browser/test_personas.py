"""Three personas in a real, Swedish browser, with email delivered from the outbox by a real
Celery worker over real SMTP: the project leader starts the county and sends Älmhult's draft for
approval; the municipal contact answers through the emailed links; the steering group follows
the adopted policy on the board, in the audit trail and in the PDF report. Every page visited
passes axe-core (WCAG 2.1 A/AA). The task-link page is also answered with the keyboard alone."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from municipalities.models import Municipality
from tests.factories import ContactFactory
from tests.support.workers import wait_until

from .helpers import PASSWORD, SCREENSHOTS, axe_check

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

KRONOBERG = (
    "Uppvidinge",
    "Lessebo",
    "Tingsryd",
    "Alvesta",
    "Älmhult",
    "Markaryd",
    "Växjö",
    "Ljungby",
)
TASK_LINK = re.compile(r"https?://\S+/l/open/\?t=[\w-]+")
# The worker process starts while the leader works; on a busy machine that takes a while.
EMAIL_TIMEOUT = 300  # an upper bound: a worker sends it, however loaded the machine


@pytest.fixture
def almhult_contact(seeded):
    return ContactFactory(
        municipality=Municipality.objects.get(code="0765"),
        name="Åsa Älmhult",
        title="Näringslivschef",
        email="asa@almhult.example",
    )


def arrive(page: Page) -> Page:
    """The page just reached is in Swedish and passes axe-core."""
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sv", page.url
    axe_check(page)
    return page


def follow(page: Page, locator) -> Page:
    """Click a link or a submit button and check the page it leads to."""
    with page.expect_navigation():
        locator.click()
    return arrive(page)


def log_in(page: Page, base_url: str, user) -> Page:
    page.goto(base_url + reverse("login"))
    arrive(page)
    field(page, "Användarnamn").fill(user.get_username())
    field(page, "Lösenord").fill(PASSWORD)
    return follow(page, page.locator("main").get_by_role("button", name="Logga in"))


def field(page: Page, label: str):
    """The form field labelled ``label``, required or not."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(obligatoriskt\))?$"))


def complete_step(page: Page) -> Page:
    return follow(page, page.get_by_role("button", name="Slutför steget"))


def open_step(page: Page, title: str) -> Page:
    """From the process page, open the next step (a link named after it)."""
    page.get_by_role("region", name="Nästa steg").get_by_role("link", name=title).click()
    return arrive(page)


def emails_to(sink, address: str, count: int):
    """The first ``count`` messages the SMTP server accepted for ``address``."""
    # Only the worker process sends over SMTP: the live server's own backend is locmem.
    wait_until(lambda: len(sink.to(address)) >= count, timeout=EMAIL_TIMEOUT)
    return sink.to(address)[:count]


def task_link_in(message, base_url: str) -> str:
    link = TASK_LINK.search(message.text).group()
    assert link.startswith(base_url + "/")
    assert link in message.html
    return link


def board_stage(board, municipality: str) -> str:
    """The heading of the board column that marks ``municipality``'s current stage."""
    row = board.get_by_role("row").filter(
        has=board.page.get_by_role("rowheader", name=municipality, exact=True)
    )
    return row.evaluate(
        """row => {
            const cell = row.querySelector("td.current");
            const column = [...row.children].indexOf(cell);
            return row.closest("table").querySelectorAll("thead th")[column].innerText.trim();
        }"""
    )


def test_leader_contact_and_steering_group_take_almhult_to_an_adopted_policy(
    new_context, live_server, leader, steering, almhult_contact, mail_delivery
):
    base = live_server.url
    today = timezone.localdate().isoformat()
    contact = almhult_contact

    # 1. The project leader logs in, starts the county, and takes Älmhult to approval.
    pia = log_in(new_context().new_page(), base, leader)
    assert pia.url == base + reverse("workflows:inbox")
    follow(pia, pia.get_by_role("navigation").get_by_role("link", name="Starta en process"))
    field(pia, "Län").select_option(label="Kronobergs län")
    follow(pia, pia.get_by_role("button", name="Starta för hela länet"))
    expect(pia.get_by_role("status")).to_have_text("8 processer har startats i Kronobergs län.")
    processes = pia.get_by_role("region", name="Policyprocesser")
    for name in KRONOBERG:
        expect(processes.get_by_role("link", name=name, exact=True)).to_be_visible()
    follow(pia, processes.get_by_role("link", name="Älmhult", exact=True))
    process_url = pia.url

    open_step(pia, "Registrera första kontakt")
    field(pia, "Datum för kontakten").fill(today)
    field(pia, "Kontaktsätt").select_option(label="Telefon")
    pia.get_by_role("group", name="Kontaktpersoner som nåddes").get_by_label("Åsa Älmhult").check()
    approvers = pia.get_by_role("group", name="Kontaktpersoner som ska godkänna utkastet")
    approvers.get_by_label("Åsa Älmhult").check()
    complete_step(pia)
    expect(pia.get_by_role("status")).to_contain_text("Registrera första kontakt")

    pia.get_by_text("Registrera ett möte").click()
    field(pia, "Datum för mötet").fill(today)
    field(pia, "Deltagare").fill("Åsa Älmhult, Pia Projektledare")
    follow(pia, pia.get_by_role("button", name="Spara mötet"))
    expect(pia.get_by_role("status")).to_have_text("Mötet har registrerats.")
    open_step(pia, "Dialog med kommunen")
    pia.get_by_label("Dialogen har kommit så långt att ett utkast kan skrivas").check()
    complete_step(pia)

    open_step(pia, "Skriv utkastet")
    # The form starts from the county's policy template.
    expect(field(pia, "Konkurrensperspektiv")).not_to_be_empty()
    field(pia, "Vad som har ändrats i den här versionen").fill("Första versionen.")
    complete_step(pia)

    open_step(pia, "Begär godkännande")
    expect(
        pia.get_by_role("group", name="Skicka utkastet till").get_by_label("Åsa Älmhult")
    ).to_be_checked()
    complete_step(pia)
    expect(pia.get_by_role("heading", level=1)).to_have_text("Uppgiftslänkar skapade")

    # 2. The contact opens the link from the email, reads the draft and asks for changes.
    (request,) = emails_to(mail_delivery, contact.email, 1)
    assert request.message["Subject"] == "Granska utkastet till ASF-policy för Älmhult"
    first_link = task_link_in(request, base)
    asa = new_context().new_page()
    asa.goto(first_link)
    arrive(asa)
    expect(asa.get_by_role("heading", level=1)).to_have_text(
        "ASF-policy för Älmhult: utkast version 1"
    )
    expect(asa.get_by_role("region", name="Utkastet")).to_contain_text("Konkurrensperspektiv")
    asa.get_by_label("Ändringar begärda").check()
    field(asa, "Kommentar").fill("Nämn praktikplatserna hos ASF i kundperspektivet.")
    follow(asa, asa.get_by_role("button", name="Skicka svar"))
    expect(asa.get_by_role("heading", level=1)).to_have_text("Tack, vi har fått ditt svar")

    # The project leader sees the request and revises the draft.
    pia.goto(process_url)
    arrive(pia)
    expect(pia.get_by_role("region", name="Versioner av utkastet")).to_contain_text(
        "Nämn praktikplatserna hos ASF i kundperspektivet."
    )
    open_step(pia, "Skriv utkastet")
    customer = field(pia, "Kundperspektiv")
    customer.fill(customer.input_value() + "\n\nKommunen erbjuder praktikplatser hos ASF.")
    field(pia, "Vad som har ändrats i den här versionen").fill("Praktikplatser tillagda.")
    complete_step(pia)
    open_step(pia, "Begär godkännande")
    complete_step(pia)

    # The contact gets a new email with a new link, sees what changed, and approves.
    _, second_request = emails_to(mail_delivery, contact.email, 2)
    second_link = task_link_in(second_request, base)
    assert second_link != first_link
    # The first link has done its work: it answers no more.
    asa.goto(first_link)
    arrive(asa)
    expect(asa.get_by_role("main")).to_contain_text(
        "Utkastet har redan besvarats med den här länken."
    )
    asa.goto(second_link)
    arrive(asa)
    changes = asa.get_by_role("region", name="Vad som har ändrats sedan version 1")
    expect(changes).to_contain_text("Kommunen erbjuder praktikplatser hos ASF.")
    asa.screenshot(path=SCREENSHOTS / "task-link.png", full_page=True)
    asa.get_by_label("Godkänt").check()
    follow(asa, asa.get_by_role("button", name="Skicka svar"))
    expect(asa.get_by_role("main")).to_contain_text("Godkänt")

    # 3. The project leader records the council's (KF) decision: adopted.
    pia.goto(process_url)
    arrive(pia)
    open_step(pia, "Registrera beslutet")
    field(pia, "Beslutande organ").select_option(label="Kommunfullmäktige (KF)")
    field(pia, "Sammanträdesdatum").fill(today)
    field(pia, "Paragraf (§)").fill("112")
    field(pia, "Diarienummer").fill("KS 2026/71")
    field(pia, "Resultat").select_option(label="Antagen")
    complete_step(pia)
    expect(pia.get_by_role("region", name="Nästa steg")).to_have_text(
        re.compile("Processen är avslutad.")
    )

    # The steering group is told, logs in and finds Älmhult adopted on the board.
    (told,) = emails_to(mail_delivery, steering.email, 1)
    assert told.message["Subject"] == "Beslut registrerat för Älmhult: Antagen"
    sven = log_in(new_context().new_page(), base, steering)
    assert sven.url.startswith(base + reverse("workflows:overview"))
    board = sven.get_by_role("region", name=re.compile("Var varje kommun i Kronobergs län står"))
    for name in KRONOBERG:
        stage = "Policyn antagen" if name == "Älmhult" else "Väntar på första kontakt"
        assert board_stage(board, name).startswith(stage), name
    sven.screenshot(path=SCREENSHOTS / "board.png", full_page=True)

    # ... in the audit trail ...
    follow(sven, sven.get_by_role("link", name="Tidslinje för Kronobergs län"))
    decision_event = (
        sven.get_by_role("row")
        .filter(has_text="Älmhult")
        .filter(has_text="Beslut registrerat: Antagen")
    )
    expect(decision_event.first).to_be_visible()
    # The newest events: the whole page holds every event of the county's eight processes.
    sven.screenshot(path=SCREENSHOTS / "timeline.png")

    # ... and in the follow-up report.
    # (made as a job by the Celery worker: the request answers at once with the job's page,
    # which shows the download link by itself once the report is ready)
    sven.go_back()
    follow(sven, sven.get_by_role("link", name="Uppföljningsrapport för Kronobergs län (PDF)"))
    follow(sven, sven.get_by_role("button", name="Skapa exporten"))
    download_link = sven.get_by_role("link", name=re.compile(r"^Ladda ner policyflow-"))
    expect(download_link).to_be_visible()
    with sven.expect_download() as download:
        download_link.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    report = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Älmhult" in report
    assert "Policyn antagen" in report


def test_contact_answers_the_task_link_page_with_the_keyboard_alone(page, live_server, task_link):
    page.goto(live_server.url + task_link)
    arrive(page)

    def tab_to(element_id: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.locator(":focus")
            assert focused.is_visible(), "the focus went to something that is not visible"
            if page.evaluate("document.activeElement.id") == element_id:
                return
        pytest.fail(f"Tab never reached #{element_id}")

    tab_to("id_answer_0")
    page.keyboard.press("Space")
    expect(page.get_by_label("Godkänt")).to_be_checked()
    # The focus order follows the form: the answer, then the comment, then the button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_comment"
    page.keyboard.type("Bra, vi tar upp den i fullmäktige.")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skicka svar")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "id_comment"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    arrive(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Tack, vi har fått ditt svar")
    expect(page.get_by_role("main")).to_contain_text("Godkänt")
