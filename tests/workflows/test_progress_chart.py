"""The progress chart draws each stage's line through every month's count, with only the points
where the line turns: years in which the counts stay level are a few points, not one a month."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from workflows.overview import charts
from workflows.overview.figures import Progress, ProgressMonth, StageColumn

SVG = "{http://www.w3.org/2000/svg}"


def five_years() -> list[list[int]]:
    """60 months of three stages' counts: municipalities reach them in four months only."""
    return [
        [(n >= 3) + (n >= 20) + 2 * (n >= 41), (n >= 20) + (n >= 41), 3 * (n >= 41)]
        for n in range(60)
    ]


def chart_lines(counts: list[list[int]]) -> list[list[tuple[float, float]]]:
    stages = [StageColumn(f"stage{i}", f"Steg {i}", 0, None) for i in range(len(counts[0]))]
    months = [
        ProgressMonth(datetime.date(2021 + n // 12, n % 12 + 1, 1), row)
        for n, row in enumerate(counts)
    ]
    with translation.override("sv"):
        svg = ET.fromstring(str(charts.progress_svg(Progress(stages, months))))  # noqa: S314 (our own SVG)
    return [
        [tuple(map(float, point.split(","))) for point in line.get("points").split()]
        for line in svg.iter(f"{SVG}polyline")
    ]


def y_at(line: list[tuple[float, float]], x: float) -> float:
    """Where the drawn line is at ``x``: a point's height when one is there (coordinates are
    written to a tenth of a pixel), else straight between the points on either side."""
    for px, py in line:
        if abs(px - x) <= 0.1:
            return py
    for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    raise AssertionError(f"{x} is outside the line")


def test_every_months_count_is_on_its_stages_line():
    counts = five_years()
    lines = chart_lines(counts)
    assert len(lines) == 3
    # The months are evenly spaced from the first to the last (each line begins and ends at
    # them), and the height is proportional to the count: its scale from two lines' ends.
    first, last = lines[0][0][0], lines[0][-1][0]

    def x_of(month: int) -> float:
        return first + month * (last - first) / (len(counts) - 1)

    (c0, y0), (c1, y1) = (counts[0][0], lines[0][0][1]), (counts[-1][0], lines[0][-1][1])

    def y_of(count: int) -> float:
        return y0 + (count - c0) * (y1 - y0) / (c1 - c0)

    for stage, line in enumerate(lines):
        for month, row in enumerate(counts):
            assert y_at(line, x_of(month)) == pytest.approx(y_of(row[stage]), abs=0.15)


def test_level_months_are_drawn_by_the_ends_of_their_stretch():
    lines = chart_lines(five_years())

    # Sixty months, three or four levels a stage: a point where each level begins and ends.
    assert [len(line) for line in lines] == [8, 6, 4]
