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
STEP_LINK = re.compile(r"https?://[^\s\"<>]+/tasks/\d+/")
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


class Walk:
    """A person's walk through the pages, counted as they would feel it: every click, typed
    field, ticked box, chosen option and opened email link is an action; every page the
    browser loads (a redirect included in the load it leads to) is a page load."""

    def __init__(self, page: Page):
        self.page, self.actions, self.loads = page, 0, 0
        page.on("load", self._loaded)

    def _loaded(self, _page) -> None:
        self.loads += 1

    def goto(self, url: str) -> Page:
        self.actions += 1
        self.page.goto(url)
        return arrive(self.page)

    def follow(self, locator) -> Page:
        self.actions += 1
        with self.page.expect_navigation():
            locator.click()
        return arrive(self.page)

    def click(self, locator) -> None:
        self.actions += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.actions += 1
        locator.fill(value)

    def check(self, locator) -> None:
        self.actions += 1
        locator.check()

    def choose(self, locator, label: str) -> None:
        self.actions += 1
        locator.select_option(label=label)


def follow(page: Page, locator) -> Page:
    """Click a link or a submit button and check the page it leads to."""
    with page.expect_navigation():
        locator.click()
    return arrive(page)


def log_in(walk: Walk, base_url: str, user) -> Page:
    page = walk.page
    page.goto(base_url + reverse("login"))
    walk.actions += 1  # typing the address
    arrive(page)
    walk.fill(field(page, "Användarnamn"), user.get_username())
    walk.fill(field(page, "Lösenord"), PASSWORD)
    return walk.follow(page.locator("main").get_by_role("button", name="Logga in"))


def field(page: Page, label: str):
    """The form field labelled ``label``, required or not."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(obligatoriskt\))?$"))


def button(page: Page, name: str):
    return page.locator("main").get_by_role("button", name=name, exact=True)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def emails_to(sink, address: str, count: int):
    """The first ``count`` messages the SMTP server accepted for ``address``."""
    # Only the worker process sends over SMTP: the live server's own backend is locmem.
    wait_until(lambda: len(sink.to(address)) >= count, timeout=EMAIL_TIMEOUT)
    return sink.to(address)[:count]


def link_in(message, base_url: str, pattern=TASK_LINK) -> str:
    link = pattern.search(message.text).group()
    assert link.startswith(base_url + "/")
    assert link in message.html
    return link


def new_step_email(sink, address: str, step: str):
    """The email that tells the leader about a new step of theirs, named ``step``."""
    wait_until(
        lambda: any(step in m.text and STEP_LINK.search(m.text) for m in sink.to(address)),
        timeout=EMAIL_TIMEOUT,
    )
    return next(m for m in sink.to(address) if step in m.text and STEP_LINK.search(m.text))


def board_stage(board, municipality: str) -> str:
    """The heading of the board column that marks ``municipality``'s current stage."""
    row = board.get_by_role("row").filter(
        has=board.page.get_by_role("rowheader", name=municipality, exact=True)
    )
    return row.evaluate(
        """row => {
            const cell = row.querySelector("td.current");
            const column = [...row.children].indexOf(cell);
            return row.closest("table").querySelectorAll("thead th")[column].textContent.trim();
        }"""
    )


def above_the_fold(locator) -> bool:
    """Whether ``locator`` is shown whole in the first screen of the page, without scrolling."""
    box = locator.bounding_box()
    height = locator.page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def sized(page: Page, viewport: dict) -> Page:
    page.set_viewport_size(viewport)
    return page


WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 667}}


@pytest.mark.parametrize("width", WIDTHS)
def test_leader_contact_and_steering_group_take_almhult_to_an_adopted_policy(
    new_context, live_server, leader, steering, almhult_contact, mail_delivery, width
):
    base = live_server.url
    contact = almhult_contact
    suffix = "" if width == "desktop" else "-phone"
    viewport = WIDTHS[width]

    # 1. The project leader logs in, starts Älmhult and takes it to the contact's approval.
    pia = Walk(sized(new_context().new_page(), viewport))
    page = log_in(pia, base, leader)
    assert page.url == base + reverse("workflows:inbox")
    # (from the inbox itself: on a phone the menu is folded)
    pia.follow(page.get_by_role("main").get_by_role("link", name="Starta en process"))
    pia.choose(field(page, "Kommun"), "Älmhult")
    pia.follow(button(page, "Starta"))
    # Starting opens the first step at once: it is Pia's.
    expect(heading(page)).to_have_text("Registrera första kontakt: Älmhult")
    # Today's date comes filled in.
    pia.choose(field(page, "Kontaktsätt"), "Telefon")
    pia.check(page.get_by_role("group", name="Kontaktpersoner som nåddes").get_by_label("Åsa"))
    approvers = page.get_by_role("group", name="Kontaktpersoner som ska godkänna utkastet")
    pia.check(approvers.get_by_label("Åsa"))
    pia.follow(button(page, "Registrera första kontakten"))

    # The dialogue's page records its meetings itself.
    expect(heading(page)).to_have_text("Dialog med kommunen: Älmhult")
    pia.fill(field(page, "Deltagare"), "Åsa Älmhult, Pia Projektledare")
    pia.follow(button(page, "Spara mötet"))
    expect(page.get_by_role("status")).to_have_text("Mötet har registrerats.")
    expect(page.locator("main")).to_contain_text("Åsa Älmhult, Pia Projektledare")
    pia.check(page.get_by_label("Dialogen har kommit så långt att ett utkast kan skrivas"))
    pia.follow(button(page, "Dialogen är klar: skriv utkastet"))

    expect(heading(page)).to_have_text("Skriv utkastet: Älmhult")
    # The form starts from the county's policy template.
    expect(field(page, "Konkurrensperspektiv")).not_to_be_empty()
    pia.fill(field(page, "Vad som har ändrats i den här versionen"), "Första versionen.")
    pia.follow(button(page, "Spara som version 1"))

    expect(heading(page)).to_have_text("Begär godkännande: Älmhult")
    send_to = page.get_by_role("group", name="Skicka utkastet till")
    expect(send_to.get_by_label("Åsa")).to_be_checked()
    pia.follow(button(page, "Skicka utkastet till Älmhult"))
    expect(heading(page)).to_have_text("Uppgiftslänkar skapade")

    # 2. The contact opens the link from the email, reads the draft and asks for changes.
    (request,) = emails_to(mail_delivery, contact.email, 1)
    assert request.message["Subject"] == "Granska utkastet till ASF-policy för Älmhult"
    first_link = link_in(request, base)
    asa = Walk(sized(new_context().new_page(), viewport))
    asa.goto(first_link)
    expect(heading(asa.page)).to_have_text("ASF-policy för Älmhult: utkast version 1")
    expect(asa.page.get_by_role("region", name="Utkastet")).to_contain_text("Konkurrensperspektiv")
    asa.check(asa.page.get_by_label("Ändringar begärda"))
    asa.fill(field(asa.page, "Kommentar"), "Nämn praktikplatserna hos ASF i kundperspektivet.")
    asa.follow(button(asa.page, "Skicka svar"))
    expect(heading(asa.page)).to_have_text("Tack, vi har fått ditt svar")

    # The project leader is emailed the draft step the answer opened, with the request beside
    # the text, and revises the draft.
    told = new_step_email(mail_delivery, leader.email, "Skriv utkastet")
    pia.goto(link_in(told, base, STEP_LINK))
    expect(page.get_by_role("complementary")).to_contain_text(
        "Nämn praktikplatserna hos ASF i kundperspektivet."
    )
    customer = field(page, "Kundperspektiv")
    pia.fill(customer, customer.input_value() + "\n\nKommunen erbjuder praktikplatser hos ASF.")
    pia.fill(field(page, "Vad som har ändrats i den här versionen"), "Praktikplatser tillagda.")
    pia.follow(button(page, "Spara som version 2"))
    pia.follow(button(page, "Skicka utkastet till Älmhult"))

    # The contact gets a new email with a new link, sees what changed, and approves.
    _, second_request = emails_to(mail_delivery, contact.email, 2)
    second_link = link_in(second_request, base)
    assert second_link != first_link
    # The first link has done its work: it answers no more.
    asa.goto(first_link)
    expect(asa.page.get_by_role("main")).to_contain_text(
        "Utkastet har redan besvarats med den här länken."
    )
    asa.goto(second_link)
    changes = asa.page.get_by_role("region", name="Vad som har ändrats sedan version 1")
    expect(changes).to_contain_text("Kommunen erbjuder praktikplatser hos ASF.")
    asa.page.screenshot(path=SCREENSHOTS / f"task-link{suffix}.png", full_page=True)
    asa.check(asa.page.get_by_label("Godkänt"))
    asa.follow(button(asa.page, "Skicka svar"))
    expect(asa.page.get_by_role("main")).to_contain_text("Godkänt")
    assert asa.actions <= 8 and asa.loads <= 5, (asa.actions, asa.loads)

    # 3. The project leader is emailed the decision step and records the council's decision.
    told = new_step_email(mail_delivery, leader.email, "Registrera beslutet")
    pia.goto(link_in(told, base, STEP_LINK))
    # Nothing is chosen for the leader: body and outcome are read from the minutes.
    expect(field(page, "Beslutande organ")).to_have_value("")
    expect(field(page, "Resultat")).to_have_value("")
    pia.choose(field(page, "Beslutande organ"), "Kommunfullmäktige (KF)")
    pia.fill(field(page, "Sammanträdesdatum"), timezone.localdate().isoformat())
    pia.fill(field(page, "Paragraf (§)"), "112")
    pia.fill(field(page, "Diarienummer"), "KS 2026/71")
    pia.choose(field(page, "Resultat"), "Antagen")
    pia.follow(button(page, "Registrera beslutet"))
    card = page.get_by_role("region", name="Nästa steg")
    expect(card).to_contain_text("Policyn antagen")
    expect(card).to_contain_text("Processen är avslutad.")
    assert above_the_fold(card), "the summary card is not on the first screen"
    page.screenshot(path=SCREENSHOTS / f"process{suffix}.png", full_page=True)
    # The measure: at most 30 actions and 14 page loads, start to adopted.
    assert pia.actions <= 30, pia.actions
    assert pia.loads <= 14, pia.loads

    # The steering group is told, logs in and finds Älmhult adopted on the board.
    (decided,) = emails_to(mail_delivery, steering.email, 1)
    assert decided.message["Subject"] == "Beslut registrerat för Älmhult: Antagen"
    sven = Walk(sized(new_context().new_page(), viewport))
    overview = log_in(sven, base, steering)
    assert overview.url.startswith(base + reverse("workflows:overview"))
    board_name = re.compile("Var varje kommun i Kronobergs län står")
    board = overview.get_by_role("region", name=board_name)
    for name in KRONOBERG:
        stage = "Policyn antagen" if name == "Älmhult" else "Inte startad"
        assert board_stage(board, name).startswith(stage), name
    almhult_row = board.get_by_role("row").filter(has_text="Älmhult").first
    if width == "phone":
        # One card per municipality: no sideways scrolling, the stage in words.
        assert almhult_row.bounding_box()["width"] <= viewport["width"]
        expect(almhult_row.get_by_text("Policyn antagen:")).to_be_visible()
    overview.screenshot(path=SCREENSHOTS / f"board{suffix}.png", full_page=True)

    # ... in the audit trail ...
    sven.follow(overview.get_by_role("link", name="Tidslinje för Kronobergs län"))
    decision_event = (
        overview.get_by_role("row")
        .filter(has_text="Älmhult")
        .filter(has_text="Beslut registrerat: Antagen")
    )
    expect(decision_event.first).to_be_visible()
    overview.screenshot(path=SCREENSHOTS / f"timeline{suffix}.png")

    # ... and in the follow-up report.
    # (made as a job by the Celery worker: the request answers at once with the job's page,
    # which shows the download link by itself once the report is ready)
    overview.go_back()
    sven.follow(overview.get_by_role("link", name="Uppföljningsrapport för Kronobergs län (PDF)"))
    sven.follow(overview.get_by_role("button", name="Skapa exporten"))
    download_link = overview.get_by_role("link", name=re.compile(r"^Ladda ner policyflow-"))
    expect(download_link).to_be_visible()
    with overview.expect_download() as download:
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
