"""The overview's two figures, drawn server-side as SVG by matplotlib, for the page and the PDF.

Why matplotlib and not plotly: docs/decisions/charts.md. Every figure has a table with the same
numbers next to it (the templates), and tells its series apart by marker, line style and hatching
as well as by colour, so that nothing is said by colour alone (WCAG 1.4.1).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .figures import Progress, StageTime
from .selectors import StageComparison

# Okabe & Ito's palette, told apart by people with any common colour-vision deficiency.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#000000", "#56B4E9"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
LINE_STYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 2))]
# Text as paths: the figure looks the same in every browser and in the PDF, whatever fonts the
# machine has; a fixed hash salt makes the same numbers give the same SVG (cacheable, testable).
MAX_MONTH_LABELS = 12
SVG_SETTINGS = {"svg.fonttype": "path", "svg.hashsalt": "policyflow", "font.size": 10}


def _figure(width: float, height: float):
    # The object API, not pyplot: no global state, safe in a threaded server.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def as_data_uri(svg: str) -> str:
    """An SVG as an ``img`` source: allowed by the CSP (img-src data:) and read by WeasyPrint."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def svg_of_data_uri(source: str) -> bytes:
    """The SVG file an `as_data_uri` source holds."""
    return base64.b64decode(source.split(",", 1)[1])


def progress_svg(progress: Progress) -> str | None:
    """Lines of how many municipalities had reached each stage, month by month."""
    if not progress.months:
        return None
    from matplotlib.ticker import MaxNLocator

    with _rc():
        figure, axes = _figure(8, 4.2)
        # Months as evenly spaced categories: the labels stay readable for any span.
        x = list(range(len(progress.months)))
        # The markers tell the stages apart: at most ~12 per line (staggered between lines)
        # keep years of months readable and the SVG small (250 KB → 70 KB for 19 years).
        every = max(1, len(x) // MAX_MONTH_LABELS)
        for i, stage in enumerate(progress.stages):
            axes.plot(
                x,
                [m.counts[i] for m in progress.months],
                label=stage.label,
                color=COLOURS[i % len(COLOURS)],
                marker=MARKERS[i % len(MARKERS)],
                linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                linewidth=1.8,
                markersize=6,
                markevery=(i * every // len(progress.stages), every),
            )
        step = max(1, -(-len(x) // MAX_MONTH_LABELS))
        axes.set_xticks(x[::step], [m.month.strftime("%Y-%m") for m in progress.months][::step])
        axes.set_xlim(-0.5, len(x) - 0.5)
        axes.tick_params(axis="x", labelrotation=45)
        axes.set_xlabel(_("Month"))
        axes.set_ylabel(_("Municipalities"))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max(max(m.counts) for m in progress.months) + 1)
        axes.grid(axis="y", color="#c9ced6", linewidth=0.6)
        axes.legend(title=_("Stage reached"), loc="upper left", bbox_to_anchor=(1.01, 1))
        return _svg(figure)


@dataclass(frozen=True)
class _Series:
    label: str
    values: list  # one per stage; None draws no bar
    solid: bool  # filled, else white with hatching


def _stage_bars(labels: list[str], series: list[_Series], limits: list) -> str:
    """Horizontal bars per stage, one per series, the numbers written at their ends."""
    figure, axes = _figure(8, 0.8 + 0.4 * len(series) * len(labels))
    positions = list(range(len(labels)))
    height = 0.8 / len(series)
    for i, one in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * height
        colour = COLOURS[i % len(COLOURS)]
        bars = axes.barh(
            [p + offset for p in positions],
            [v or 0 for v in one.values],
            height=height,
            color=colour if one.solid else "white",
            edgecolor=colour,
            hatch=None if one.solid else "///",
            label=one.label,
        )
        # The numbers at the end of each bar: the figure reads without its legend.
        axes.bar_label(bars, labels=[_days(v) for v in one.values], padding=3)
    marked = [(p, limit) for p, limit in zip(positions, limits, strict=True) if limit]
    if marked:
        axes.scatter(
            [limit for _p, limit in marked],
            [p for p, _limit in marked],
            marker="|",
            s=500,
            linewidths=2.5,
            color="black",
            label=_("Stage limit"),
            zorder=3,
        )
    longest = max([v or 0 for one in series for v in one.values] + [v or 0 for v in limits])
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel(_("Days"))
    axes.set_xlim(0, max(longest, 1) * 1.15)
    axes.grid(axis="x", color="#c9ced6", linewidth=0.6)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    return _svg(figure)


def stage_times_svg(stage_times: list[StageTime]) -> str | None:
    """Per stage, the median days (solid bar) and the slowest (hatched)."""
    rows = [t for t in stage_times if t.count]
    if not rows:
        return None
    with _rc():
        return _stage_bars(
            [t.label for t in rows],
            [
                _Series(_("Median"), [t.median_days for t in rows], solid=True),
                _Series(_("Slowest"), [t.slowest_days for t in rows], solid=False),
            ],
            [t.limit_days for t in rows],
        )


def comparison_svg(comparison: list[StageComparison]) -> str | None:
    """Per stage, one municipality's days (solid bar) beside the county's median (hatched)."""
    rows = [c for c in comparison if c.days is not None or c.county_median_days is not None]
    if not rows:
        return None
    with _rc():
        return _stage_bars(
            [c.label for c in rows],
            [
                _Series(_("This municipality"), [c.days for c in rows], solid=True),
                _Series(_("County median"), [c.county_median_days for c in rows], solid=False),
            ],
            [c.limit_days for c in rows],
        )


def _days(value) -> str:
    return "–" if value is None else f"{value:g}"


def _rc():
    from matplotlib import rc_context

    return rc_context(SVG_SETTINGS)


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
