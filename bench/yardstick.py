"""The machine's own speed, and its Python's, at what a page spends its time on: Python running
Django's template engine. Figures from two machines compare only through something like it (the
same code met a page's p95 on one machine and missed it by half on one 1.7 times slower; one
build of Python 3.11 rendered it a fifth slower than another on the same machine), and one
machine's speed can halve for seconds on a shared host with nothing else running on it.

A fixed template (a table of 200 rows: variables, a filter, translated text, an `if`, a loop)
is rendered with no database and no request: after half a second of rendering to warm up, the best
of seven rounds, in milliseconds a rendering (lower is faster). `python -m bench` measures it
at the start and before and after each part."""

from __future__ import annotations

import time

ROWS = 200
ROUNDS = 7
RENDERINGS = 10
WARM_UP_SECONDS = 0.5

SOURCE = (
    "{% load i18n %}<table><caption>{% translate 'Tasks' %}</caption>"
    "{% for row in rows %}<tr><td>{{ row.name|upper }}</td><td>{{ row.count }}</td>"
    "<td>{% if row.late %}{% translate 'Overdue' %}{% else %}{{ row.stage }}{% endif %}</td>"
    "</tr>{% endfor %}</table>"
)


def template_ms(rounds: int = ROUNDS) -> float:
    """The best of ``rounds``, after ``rounds`` / ROUNDS of the warm-up (a tiny run's reading
    only shows that the reading works)."""
    from django.template import Context, Engine
    from django.utils import translation

    template = Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string(SOURCE)
    rows = [
        {"name": f"kommun {n}", "count": n, "late": n % 3 == 0, "stage": "dialog"}
        for n in range(ROWS)
    ]
    context = Context({"rows": rows})
    best = float("inf")
    with translation.override("sv"):
        # Rendering for half a second first: what is loaded lazily, and a core coming out of idle
        # (the first round alone was up to 1.7 times slower).
        warm_until = time.perf_counter() + WARM_UP_SECONDS * rounds / ROUNDS
        while time.perf_counter() < warm_until:
            template.render(context)
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(RENDERINGS):
                template.render(context)
            best = min(best, (time.perf_counter() - started) / RENDERINGS)
    return round(best * 1000, 2)
