"""The overview's charts, written here as SVG text from their numbers, without a plotting library:
the progress by month (lines) and the days per stage (bars), for the page (inline) and the PDF
(WeasyPrint draws the same SVG). A chart is a few hundred lines and labels; drawing it costs
about a millisecond.

Why no plotting library: docs/decisions/charts.md. Every chart is an ``<svg role="img">`` with a
title and a description in the reader's language, and has a table with the same numbers next to
it (the templates). Series differ by marker, line style and hatching as well as by colour, so that
nothing is said by colour alone (WCAG 1.4.1). Only presentation attributes, no ``style``: the
page's Content Security Policy allows no inline styles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .figures import Progress, StageTime
from .selectors import StageComparison

# Okabe & Ito's palette, told apart by people with any common colour-vision deficiency.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#000000", "#56B4E9"]
MARKERS = ["circle", "square", "triangle", "diamond", "down", "plus", "cross"]
DASHES = ["", "7 3", "9 3 2 3", "2 3", "12 3", "5 2 1 2 1 2", "1 5"]
TEXT = "#1a1a1a"
GRID = "#c9ced6"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12"'
MAX_MONTH_LABELS = 12
# A chart's width in CSS pixels; the page and the PDF scale it to their column (CSS width).
WIDTH = 760
MAX_MARKERS = 12  # per line: years of months stay readable


def _n(value: float) -> str:
    """A coordinate, short: 12.5, 12."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_step(largest: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10^k) giving about ``ticks`` ticks up to ``largest``."""
    raw = max(largest, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return max(factor * power, 1)
    return 10 * power


def _open(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT} fill="{TEXT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _marker(kind: str, x: float, y: float, colour: str, size: float = 4.5) -> str:
    x, y, s = float(x), float(y), size
    if kind == "circle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(s)}" fill="{colour}"/>'
    if kind == "square":
        return (
            f'<rect x="{_n(x - s)}" y="{_n(y - s)}" width="{_n(2 * s)}" height="{_n(2 * s)}" '
            f'fill="{colour}"/>'
        )
    points = {
        "triangle": [(0, -1.2), (1.1, 0.9), (-1.1, 0.9)],
        "down": [(0, 1.2), (1.1, -0.9), (-1.1, -0.9)],
        "diamond": [(0, -1.3), (1.1, 0), (0, 1.3), (-1.1, 0)],
    }.get(kind)
    if points:
        path = " ".join(f"{_n(x + dx * s)},{_n(y + dy * s)}" for dx, dy in points)
        return f'<polygon points="{path}" fill="{colour}"/>'
    if kind == "plus":
        d = f"M{_n(x - s)} {_n(y)}H{_n(x + s)}M{_n(x)} {_n(y - s)}V{_n(y + s)}"
    else:  # cross
        a, b, c, e = _n(x - s), _n(x + s), _n(y - s), _n(y + s)
        d = f"M{a} {c}L{b} {e}M{a} {e}L{b} {c}"
    return f'<path d="{d}" stroke="{colour}" stroke-width="2.5" fill="none"/>'


def _dash(index: int) -> str:
    dash = DASHES[index % len(DASHES)]
    return f' stroke-dasharray="{dash}"' if dash else ""


# --- Progress by month ------------------------------------------------------------------------


def progress_svg(progress: Progress, *, chart_id: str = "progress-chart") -> SafeString | None:
    """Lines of how many municipalities had reached each stage, month by month."""
    if not progress.months:
        return None
    width, height = WIDTH, 360
    left, top, right, bottom = 56, 14, width - 210, height - 76
    plot_w, plot_h = right - left, bottom - top
    months = progress.months
    count = len(months)
    top_value = max(max(m.counts) for m in months) + 1
    step = _nice_step(top_value)
    top_value = math.ceil(top_value / step) * step

    def x_of(i: int) -> float:
        return left + (i + 0.5) * plot_w / count

    def y_of(value: float) -> float:
        return bottom - value * plot_h / top_value

    parts = _open(
        chart_id,
        width,
        height,
        _(
            "How many municipalities had reached each stage, by month (a municipality in a "
            "later stage has passed the earlier ones)."
        ),
        _(
            "Line chart of how many municipalities had reached each stage, month by month. "
            "Each stage has its own marker and line style. The same numbers are in the table "
            "below."
        ),
    )
    value = 0
    while value <= top_value:
        y = _n(y_of(value))
        parts.append(
            f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{GRID}" stroke-width="0.8"/>'
            f'<text x="{left - 6}" y="{y}" dy="4" text-anchor="end">{value:g}</text>'
        )
        value += step
    label_every = max(1, -(-count // MAX_MONTH_LABELS))
    for i in range(0, count, label_every):
        x, y = _n(x_of(i)), bottom + 14
        parts.append(
            f'<text x="{x}" y="{y}" text-anchor="end" transform="rotate(-45 {x} {y})">'
            f"{months[i].month:%Y-%m}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{TEXT}"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{TEXT}"/>'
        f'<text x="{_n((left + right) / 2)}" y="{height - 6}" text-anchor="middle">'
        f"{escape(_('Month'))}</text>"
        f'<text x="14" y="{_n((top + bottom) / 2)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n((top + bottom) / 2)})">{escape(_("Municipalities"))}</text>'
    )
    every = max(1, -(-count // MAX_MARKERS))
    stages = len(progress.stages)
    for s in range(stages):
        colour = COLOURS[s % len(COLOURS)]
        points = " ".join(
            f"{_n(x_of(i))},{_n(y_of(months[i].counts[s]))}"
            for i in _turns([m.counts[s] for m in months])
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
            f"{_dash(s)}/>"
        )
        # Staggered between the lines, so that lines lying on each other show every marker.
        for i in range(s * every // stages, count, every):
            parts.append(
                _marker(MARKERS[s % len(MARKERS)], x_of(i), y_of(months[i].counts[s]), colour)
            )
    legend_x = right + 16
    parts.append(
        f'<text x="{legend_x}" y="{top + 10}" font-weight="bold">'
        f"{escape(_('Stage reached'))}</text>"
    )
    for s, stage in enumerate(progress.stages):
        colour = COLOURS[s % len(COLOURS)]
        y = top + 32 + s * 22
        parts.append(
            f'<line x1="{legend_x}" y1="{y}" x2="{legend_x + 30}" y2="{y}" stroke="{colour}" '
            f'stroke-width="2"{_dash(s)}/>'
            + _marker(MARKERS[s % len(MARKERS)], legend_x + 15, y, colour)
            + f'<text x="{legend_x + 38}" y="{y}" dy="4">{escape(_short(stage.label, 22))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text in it is escaped above)


def _turns(values: list) -> list[int]:
    """The indexes of a line's points that are not inside a level stretch: the first, the last,
    and each one whose value differs from the one before or after it. The stretch's ends draw
    the same line; the counts of municipalities that reached a stage stay level for months at a
    time, so years of months draw in a fraction of the points and bytes."""
    last = len(values) - 1
    return [
        i
        for i, value in enumerate(values)
        if i in (0, last) or not (values[i - 1] == value == values[i + 1])
    ]


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


# --- Days per stage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    label: str
    values: list  # one per stage; None draws no bar
    solid: bool  # filled, else white with hatching


def _days(value) -> str:
    return "–" if value is None else f"{value:g}"


def _stage_bars(
    chart_id: str,
    labels: list[str],
    series: list[_Series],
    limits: list,
    title: str,
    description: str,
) -> SafeString:
    """Horizontal bars per stage, one per series, the numbers written at their ends; the stage
    limit is a black tick across the stage's bars."""
    bar, gap = 16, 14
    group = bar * len(series) + gap
    width, label_w, value_w = WIDTH, 250, 56
    left, right, top = label_w, width - value_w, 8
    bottom = top + group * len(labels)
    height = bottom + 70
    longest = max([v or 0 for one in series for v in one.values] + [v or 0 for v in limits])
    step = _nice_step(longest)
    top_value = max(math.ceil(longest * 1.05 / step) * step, step)

    def x_of(value: float) -> float:
        return left + value * (right - left) / top_value

    parts = _open(chart_id, width, height, title, description)
    parts.append("<defs>")
    for i, one in enumerate(series):
        if not one.solid:
            colour = COLOURS[i % len(COLOURS)]
            parts.append(
                f'<pattern id="{chart_id}-hatch-{i}" width="6" height="6" '
                f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
                f'<rect width="6" height="6" fill="#fff"/>'
                f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="2.5"/>'
                "</pattern>"
            )
    parts.append("</defs>")
    value = 0
    while value <= top_value:
        x = _n(x_of(value))
        parts.append(
            f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="{GRID}" stroke-width="0.8"/>'
            f'<text x="{x}" y="{bottom + 16}" text-anchor="middle">{value:g}</text>'
        )
        value += step
    parts.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{TEXT}"/>'
        f'<text x="{_n((left + right) / 2)}" y="{bottom + 34}" text-anchor="middle">'
        f"{escape(_('Days'))}</text>"
    )
    for row, label in enumerate(labels):
        y0 = top + row * group + gap / 2
        parts.append(
            f'<text x="{left - 8}" y="{_n(y0 + bar * len(series) / 2)}" dy="4" '
            f'text-anchor="end">{escape(_short(label, 36))}</text>'
        )
        for i, one in enumerate(series):
            colour = COLOURS[i % len(COLOURS)]
            fill = colour if one.solid else f"url(#{chart_id}-hatch-{i})"
            y = y0 + i * bar
            end = x_of(one.values[row] or 0)
            if one.values[row]:
                parts.append(
                    f'<rect x="{left}" y="{_n(y + 1)}" width="{_n(end - left)}" '
                    f'height="{bar - 2}" fill="{fill}" stroke="{colour}"/>'
                )
            parts.append(
                f'<text x="{_n(end + 4)}" y="{_n(y + bar / 2)}" dy="4">'
                f"{_days(one.values[row])}</text>"
            )
        if limits[row]:
            x = _n(x_of(limits[row]))
            parts.append(
                f'<line x1="{x}" y1="{_n(y0 - 3)}" x2="{x}" y2="{_n(y0 + bar * len(series) + 3)}" '
                'stroke="#000" stroke-width="3"/>'
            )
    legend_y = bottom + 56
    x = left
    for i, one in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        fill = colour if one.solid else f"url(#{chart_id}-hatch-{i})"
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="24" height="12" fill="{fill}" '
            f'stroke="{colour}"/><text x="{x + 30}" y="{legend_y}">{escape(one.label)}</text>'
        )
        x += 40 + 8 * len(one.label)
    if any(limits):
        parts.append(
            f'<line x1="{x + 6}" y1="{legend_y - 12}" x2="{x + 6}" y2="{legend_y + 4}" '
            f'stroke="#000" stroke-width="3"/>'
            f'<text x="{x + 16}" y="{legend_y}">{escape(_("Stage limit"))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text in it is escaped above)


def stage_times_svg(
    stage_times: list[StageTime], *, chart_id: str = "stage-times-chart"
) -> SafeString | None:
    """Per stage, the median days (solid bar) and the slowest (hatched)."""
    rows = [t for t in stage_times if t.count]
    if not rows:
        return None
    return _stage_bars(
        chart_id,
        [t.label for t in rows],
        [
            _Series(_("Median"), [t.median_days for t in rows], solid=True),
            _Series(_("Slowest"), [t.slowest_days for t in rows], solid=False),
        ],
        [t.limit_days for t in rows],
        _("Median and slowest days in each stage; the vertical mark is the stage limit."),
        _(
            "Bar chart of the median and the slowest number of days spent in each stage, with "
            "the stage limit marked. Median bars are solid, slowest bars hatched; every bar has "
            "its number written at its end. The same numbers are in the table below."
        ),
    )


def comparison_svg(
    comparison: list[StageComparison], *, name: str, chart_id: str = "comparison-chart"
) -> SafeString | None:
    """Per stage, one municipality's days (solid bar) beside the county's median (hatched)."""
    rows = [c for c in comparison if c.days is not None or c.county_median_days is not None]
    if not rows:
        return None
    return _stage_bars(
        chart_id,
        [c.label for c in rows],
        [
            _Series(_("This municipality"), [c.days for c in rows], solid=True),
            _Series(_("County median"), [c.county_median_days for c in rows], solid=False),
        ],
        [c.limit_days for c in rows],
        _(
            "Days in each stage: this municipality (solid) and the county's median (hatched); "
            "the vertical mark is the stage limit."
        ),
        _(
            "Bar chart of the days %(name)s spent in each stage beside the county's median, "
            "with the stage limit marked. The municipality's bars are solid, the county's "
            "hatched; every bar has its number written at its end. The same numbers are in the "
            "table below."
        )
        % {"name": name},
    )


# --- Drawn by the page itself: inline SVG from numbers, no plotting library -------------------


@dataclass(frozen=True)
class Bar:
    """One row of a bar list: its words, its number, and where its bar lies (0–100)."""

    label: str
    count: int
    start: float = 0.0
    width: float = 0.0


def funnel(board) -> list[Bar]:
    """Municipalities per stage, in the process's order, for the county page's funnel: the
    bars are proportional to the largest count; the numbers are written beside them."""
    counts = [(str(_("Not started")), board.not_started)] + [
        (column.label, column.count) for column in board.columns
    ]
    largest = max((count for _label, count in counts), default=0) or 1
    return [Bar(label, count, 0.0, round(100 * count / largest, 2)) for label, count in counts]


def stays_timeline(stays, now) -> list[Bar]:
    """A municipality's stages on one time axis (a Gantt row each): where each stay starts and
    how long it lasts, as shares of the span from the first stage entered until ``now``."""
    if not stays:
        return []
    begin = stays[0].entered_at
    span = max((now - begin).total_seconds(), 1.0)
    bars = []
    for stay in stays:
        end = stay.left_at or now
        start = 100 * (stay.entered_at - begin).total_seconds() / span
        # At least a sliver, so that a stay of a few hours still shows.
        width = max(100 * (end - stay.entered_at).total_seconds() / span, 0.8)
        bars.append(
            Bar(stay.label, stay.days or 0, round(start, 2), round(min(width, 100 - start), 2))
        )
    return bars
