"""The follow-up report's tables fit an A4 page: with a long municipality name, case number and
notes, no text runs past the page's right margin and no two cells of a row overlap.

Positions come from the rendered PDF: pypdf's ``visitor_text`` gives where each run of text
starts, and the width of the run is measured with the very font embedded in the PDF (its
advance widths, by fontTools), so the test sees what a reader sees.
"""

import datetime
import io
import re
from dataclasses import dataclass
from functools import cache

import pytest
from django.urls import reverse
from django.utils import timezone
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from municipalities.models import County, Municipality
from tests.factories import ContactFactory
from workflows import services, voiding
from workflows.models import Meeting

from .helpers import current_task, english, walk_to  # noqa: F401

pytestmark = pytest.mark.django_db

MM = 72 / 25.4  # PDF points per millimetre
RIGHT_MARGIN = 14 * MM  # the report's @page margin
# Points. The measured width leaves out kerning (the PDF's TJ adjustments), which makes a long run
# up to about a point narrower than measured: a bold label followed by ": text" in one cell
# touches within that. Text that runs into the next cell or off the page does so by far more.
TOLERANCE = 1.5

LONG_NAME = "Övre Långträsk-Östra Kronobergsbygdens samverkanskommun"
LONG_CASE_NUMBER = "KSN-2026-001422-ÖVERKLAGANDEFÖRVALTNINGSRÄTTENIVÄXJÖ"
LONG_BODY = "Arbetsmarknads-, integrations- och näringslivsnämndens arbetsutskott"
MINUTES_URL = (
    "https://www.ovrelangtrask.example/kommun-och-politik/sammantraden-och-protokoll/"
    "kommunfullmaktige/2026/protokoll-kommunfullmaktige-2026-03-01-justerat.pdf"
)


@dataclass(frozen=True)
class Run:
    page: int
    page_width: float
    x0: float
    x1: float
    y: float
    text: str


@cache
def _font(data: bytes) -> TTFont:
    return TTFont(io.BytesIO(data))


def _width(text: str, font_dict, size: float) -> float:
    """The advance width of ``text`` in text space, from the font embedded in the PDF."""
    descendant = font_dict["/DescendantFonts"][0].get_object()
    data = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
    font = _font(data)
    cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
    units = sum(metrics[cmap[ord(ch)]][0] for ch in text if ord(ch) in cmap)
    return units / font["head"].unitsPerEm * size


def text_runs(pdf: bytes) -> list[Run]:
    """Every run of text with its page, and its start and end on the page."""
    reader = PdfReader(io.BytesIO(pdf))
    runs = []
    for number, page in enumerate(reader.pages, start=1):
        page_width = float(page.mediabox.width)  # landscape pages are wider

        # pypdf gives the text of a form XObject (WeasyPrint draws a chart's SVG text in one)
        # in the form's own coordinates, which start as the identity: the form is placed by
        # the matrix current at its `Do`, which the page's own content never leaves as identity.
        placed = {"by": None}

        def before(operator, args, cm, tm, placed=placed):
            if operator == b"Do":
                placed["by"] = cm

        def visit(
            text, cm, tm, font_dict, size, number=number, page_width=page_width, placed=placed
        ):
            if not text.strip() or font_dict is None:
                return
            if placed["by"] is not None and list(cm) == [1, 0, 0, 1, 0, 0]:
                cm = placed["by"]
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            width = _width(text.rstrip(), font_dict, size) * tm[0] * cm[0]
            runs.append(Run(number, page_width, x, x + width, round(y, 1), text.strip()))

        page.extract_text(visitor_text=visit, visitor_operand_before=before)
    return runs


def beyond_the_margin(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r.x1 > r.page_width - RIGHT_MARGIN + TOLERANCE]


def overlapping(runs: list[Run]) -> list[tuple[str, str]]:
    """Pairs of runs on one line of one page whose extents overlap (one cell into the next)."""
    lines: dict[tuple[int, float], list[Run]] = {}
    for run in runs:
        lines.setdefault((run.page, run.y), []).append(run)
    pairs = []
    for line in lines.values():
        line.sort(key=lambda r: r.x0)
        for left, right in zip(line, line[1:], strict=False):
            if left.x1 > right.x0 + TOLERANCE:
                pairs.append((left.text, right.text))
    return pairs


@pytest.fixture
def long_story(leader):
    """A municipality with a long name, a council decision with a long body and case number, a
    long meeting note and a meeting voided with a long link as its reason."""
    municipality = Municipality.objects.create(
        code="0799", name=LONG_NAME, county=County.objects.get(code="07")
    )
    contact = ContactFactory(
        municipality=municipality, name="Maria-Magdalena Långström-Östergren-Kronobergsdotter"
    )
    process = services.start_process(municipality=municipality, user=leader)
    walk_to(process, leader, contact, "dialogue")
    meeting = services.record_meeting(
        process=process,
        user=leader,
        held_on=datetime.date(2026, 2, 1),
        participants="Kommunstyrelsens ordförande, näringslivsutvecklare, upphandlingschef",
        notes="Genomgång av reserverad upphandling och idéburet offentligt partnerskap. " * 4,
    )
    voiding.void_record(record=Meeting.objects.get(pk=meeting.pk), user=leader, reason=MINUTES_URL)
    walk_to(process, leader, contact, "decision")
    today = timezone.localdate()
    services.record_decision(
        task=current_task(process),
        user=leader,
        body="other",
        body_other=LONG_BODY,
        meeting_date=today,  # the walk approved the draft today
        paragraph="123 a–c",
        case_number=LONG_CASE_NUMBER,
        outcome="adopted",
        certification_date=today + datetime.timedelta(days=3),
        announcement_date=today + datetime.timedelta(days=4),
        minutes_url=MINUTES_URL,
        notes="Beslutet fattades efter votering. " * 5,
    )
    return municipality


def report(client, url: str, params=None) -> bytes:
    response = client.get(url, params or {})
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("scope", ["county", "municipality"])
def test_every_table_of_the_report_fits_the_page(client, steering, long_story, scope, language):
    client.force_login(steering)
    client.cookies["django_language"] = language
    if scope == "county":
        pdf = report(client, reverse("workflows:overview_report"), {"county": "07"})
    else:
        pdf = report(client, reverse("workflows:overview_municipality_report", args=["0799"]))

    runs = text_runs(pdf)
    # Lines broken at a hyphen, or hyphenated (U+2010), joined again.
    text = " ".join(r.text for r in runs).replace("- ", "-").replace("\u2010 ", "")

    assert "Långträsk" in text and "ÖVERKLAGANDE" in text  # the long values are in it
    problems = (beyond_the_margin(runs), overlapping(runs))
    assert problems == ([], []), "\n".join(map(str, problems[0] + problems[1]))
    # Columns are wide enough for a date: none is broken across two lines (a date stands alone
    # in its cell; a long case number such as KSN-2026-01422 may break).
    assert [r.text for r in runs if re.search(r"(?:^|\s)\d{4}-(\d\d-)?\d?$", r.text)] == []
