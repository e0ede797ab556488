"""The follow-up's charts: plain horizontal bar charts written as SVG text here, without a
plotting library in the request (a few rectangles and labels are all a steering group needs).
Each chart has a table with the same numbers beside it (the templates); one series per chart, so
nothing is told by colour, and every bar has its number written at its end (WCAG 1.4.1)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from django.utils.html import escape

BAR_COLOUR = "#0072B2"  # Okabe & Ito's blue: 5.2:1 against white
TEXT_COLOUR = "#1a1a1a"
ROW_HEIGHT = 26
BAR_HEIGHT = 18
LABEL_WIDTH = 230
BAR_AREA = 360
VALUE_WIDTH = 60
FONT = "font-family:DejaVu Sans,Arial,sans-serif;font-size:12px"


def bar_chart(rows: Sequence[tuple[str, int]], *, title: str) -> str | None:
    """A horizontal bar chart of (label, value) rows as SVG text; None when every value is 0."""
    if not rows or not any(value for _label, value in rows):
        return None
    top = max(value for _label, value in rows)
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    height = ROW_HEIGHT * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LABEL_WIDTH}" y1="0" x2="{LABEL_WIDTH}" y2="{height - 5}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="1"/>',
    ]
    for index, (label, value) in enumerate(rows):
        y = 5 + index * ROW_HEIGHT
        length = round(BAR_AREA * value / top) if top else 0
        middle = y + BAR_HEIGHT / 2 + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" '
            f'style="{FONT}" fill="{TEXT_COLOUR}">{escape(_shorten(label))}</text>'
        )
        if length:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
                f'fill="{BAR_COLOUR}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}" style="{FONT}" '
            f'fill="{TEXT_COLOUR}">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _shorten(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def as_data_uri(svg: str | None) -> str | None:
    """An SVG as an ``img`` source: allowed by the CSP (img-src data:) and read by WeasyPrint."""
    if svg is None:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
