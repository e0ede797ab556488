"""What changed since the contact's last version: readable, and fast for long drafts.

Time is held by counting comparisons (the pairs of units difflib's longest-match search may
compare), not by a clock: a loaded machine can't make the test flaky, and a quadratic diff
can't pass it."""

import difflib
import random

import pytest
from django.test import Client

from workflows import services
from workflows.diff import DELETE, INSERT, diff_html, diff_ops

from .helpers import open_task, walk_to

pytestmark = pytest.mark.django_db

VOCABULARY = [
    "och",
    "att",
    "det",
    "som",
    "en",
    "på",
    "är",
    "av",
    "för",
    "med",
    "till",
    "den",
    "har",
    "de",
    "inte",
    "om",
    "ett",
    "men",
    "kommunen",
    "företag",
    "sociala",
    "arbetsintegrerande",
    "upphandling",
    "reserverad",
    "dialog",
    "partnerskap",
    "stöd",
    "konkurrens",
]
# One word-by-word search over two 20,000-word versions may compare some 10^9 pairs.
MAX_COMPARISONS_FOR_20000_WORDS = 3_000_000


@pytest.fixture
def comparisons(monkeypatch):
    """Count the (old unit, new unit) pairs every longest-match search may compare."""
    counted = [0]
    search = difflib.SequenceMatcher.find_longest_match

    def counting(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        counted[0] += (ahi - alo) * (bhi - blo)
        return search(self, alo, ahi, blo, bhi)

    monkeypatch.setattr(difflib.SequenceMatcher, "find_longest_match", counting)
    return counted


def long_section(words: int, seed: int) -> str:
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(words // 80):
        sentences = [
            " ".join(rng.choice(VOCABULARY) for _ in range(10)).capitalize() + "." for _ in range(8)
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def revised(text: str) -> str:
    """Twenty scattered edits, a paragraph added and one removed."""
    paragraphs = text.split("\n\n")
    for index in range(0, len(paragraphs), len(paragraphs) // 10):
        words = paragraphs[index].split(" ")
        words[5] = "ÄNDRAT"
        words.insert(30, "Tillagt-ord")
        paragraphs[index] = " ".join(words)
    paragraphs.insert(3, "Ett nytt stycke om idéburet offentligt partnerskap.")
    del paragraphs[40]
    return "\n\n".join(paragraphs)


def open_page(url: str) -> str:
    browser = Client()
    response = browser.get(url.split("127.0.0.1:8000", 1)[1])
    assert response.status_code == 302
    page = browser.get(response.url)
    assert page.status_code == 200
    return page.content.decode()


def test_the_contact_page_for_a_revised_20000_word_draft_is_bounded_and_shows_the_changes(
    leader, vaxjo, vaxjo_contact, comparisons
):
    competition, customer = long_section(10_000, 1), long_section(10_000, 2)
    process = services.start_process(municipality=vaxjo, user=leader)
    services.write_draft(
        task=walk_to(process, leader, vaxjo_contact, "draft"),
        user=leader,
        competition_section=competition,
        customer_section=customer,
    )
    (first,) = services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[vaxjo_contact]
    )
    open_page(first.url)  # the contact has seen version 1
    services.answer_approval(
        task=open_task(process, "approval"),
        contact=vaxjo_contact,
        answer="changes_requested",
        comment="Lägg till IOP.",
    )
    services.write_draft(
        task=open_task(process, "draft"),
        user=leader,
        competition_section=revised(competition),
        customer_section=revised(customer),
    )
    (second,) = services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[vaxjo_contact]
    )
    comparisons[0] = 0

    page = open_page(second.url)

    assert comparisons[0] <= MAX_COMPARISONS_FOR_20000_WORDS
    assert "<ins>Ett nytt stycke om idéburet offentligt partnerskap.<br><br></ins>" in page
    assert page.count("<ins>ÄNDRAT") >= 20 and page.count("Tillagt-ord") >= 20


def test_a_text_rewritten_from_end_to_end_stays_within_the_budget(comparisons):
    rng = random.Random(3)
    old = " ".join(rng.choice(VOCABULARY) for _ in range(20_000))
    new = " ".join(rng.choice(VOCABULARY) for _ in range(20_000))
    ops = list(diff_ops(old, new))
    assert comparisons[0] <= MAX_COMPARISONS_FOR_20000_WORDS
    assert "".join(text for op, text in ops if op != INSERT) == old
    assert "".join(text for op, text in ops if op != DELETE) == new


def test_the_diff_marks_only_the_changed_words_and_escapes_everything():
    html, changed = diff_html(
        "Vi ska <b>köpa</b> tjänster av ASF.\n\nAndra stycket här.",
        "Vi ska inte köpa tjänster av ASF.\n\nAndra stycket där.\n\nTillägg.",
    )
    assert changed
    assert html == (
        "Vi ska <del>&lt;b&gt;köpa&lt;/b&gt; </del><ins>inte köpa </ins>tjänster av ASF."
        "<br><br>Andra stycket <del>här.</del><ins>där.<br><br>Tillägg.</ins>"
    )
    assert diff_html("Samma text.", "Samma text.") == ("Samma text.", False)


@pytest.mark.parametrize("seed", range(20))
def test_the_pieces_always_make_both_versions_again(seed):
    rng = random.Random(seed)
    pieces = ["Ord", "och", "ord.", "\n", "\n\n", " ", "Ny mening!", "x"]
    old = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 60)))
    new = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 60)))
    ops = list(diff_ops(old, new))
    assert "".join(text for op, text in ops if op != INSERT) == old
    assert "".join(text for op, text in ops if op != DELETE) == new
