"""The follow-up as the page, the PDF (WeasyPrint, as the overview's report) and the CSV file
show it: the figures, their charts and one list of rows for the CSV."""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from workflows.overview.report import html_to_pdf

from . import charts
from .selectors import FollowUp

BOM = "\ufeff"  # Excel reads the file as UTF-8


def charts_of(report: FollowUp) -> dict:
    """The charts as image sources, for the page and the PDF."""
    actors = [(a.label, a.total) for a in report.outreach.actors]
    kinds = [(k.label, k.activities) for k in report.outreach.kinds]
    stages = [(_("Not started"), report.policy.not_started)] + [
        (s.label, s.count) for s in report.policy.stages
    ]
    result = {
        "actors_chart": charts.as_data_uri(
            charts.bar_chart(actors, title=_("People reached by actor type"))
        ),
        "kinds_chart": charts.as_data_uri(charts.bar_chart(kinds, title=_("Activities by kind"))),
        "stages_chart": charts.as_data_uri(
            charts.bar_chart(stages, title=_("Municipalities per policy stage"))
        ),
        "register_chart": None,
    }
    register = report.register
    if register is not None and register.municipalities:
        rows = [(row.name, row.at_end) for row in register.municipalities]
        result["register_chart"] = charts.as_data_uri(
            charts.bar_chart(rows, title=_("ASF in the register per municipality"))
        )
    return result


def context(report: FollowUp) -> dict:
    return {"report": report, **charts_of(report)}


def render_pdf(report: FollowUp, *, request=None) -> bytes:
    html = render_to_string("followup/report.html", context(report), request=request)
    return html_to_pdf(html)


def filename(report: FollowUp, extension: str) -> str:
    scope = slugify(report.scope_name)
    return f"policyflow-uppfoljning-{scope}-{report.period.key.lower()}.{extension}"


def rows(report: FollowUp) -> list[list]:
    """Every figure of the report as (aim, measure, item, number, women, men, other) rows."""
    aim1, aim2, aim3 = (
        _("1 Knowledge spreading"),
        _("2 Collaboration organisation"),
        _("3 Policies"),
    )
    out: list[list] = []
    for kind in report.outreach.kinds:
        out.append([aim1, _("Activities by kind"), kind.label, kind.activities, "", "", ""])
    for actor in report.outreach.actors:
        out.append(
            [
                aim1,
                _("People reached by actor type"),
                actor.label,
                actor.total,
                actor.women,
                actor.men,
                actor.other,
            ]
        )
    network = report.network
    out += [
        [aim2, _("Members at the period's end"), "", network.members_at_end, "", "", ""],
        [aim2, _("Members who joined"), "", network.joined, "", "", ""],
        [aim2, _("Members who left"), "", network.left, "", "", ""],
        [aim2, _("Meetings held"), "", network.meetings, "", "", ""],
        [aim2, _("Members present, summed over the meetings"), "", network.attendances, "", "", ""],
    ]
    for milestone in network.milestones:
        out.append(
            [aim2, _("Milestone"), f"{milestone.reached_on.isoformat()} {milestone}", 1, "", "", ""]
        )
    register = report.register
    if register is not None:
        at_start, at_end = (
            _("ASF in the register at the start"),
            _("ASF in the register at the end"),
        )
        added = _("ASF added to the register")
        for row in register.municipalities:
            out.append([aim2, at_start, row.name, row.at_start, "", "", ""])
            out.append([aim2, at_end, row.name, row.at_end, "", "", ""])
            out.append([aim2, added, row.name, row.added, "", "", ""])
        out.append([aim2, at_start, _("Total"), register.at_start, "", "", ""])
        out.append([aim2, at_end, _("Total"), register.at_end, "", "", ""])
        out.append([aim2, added, _("Total"), register.added, "", "", ""])
    policy = report.policy
    out.append(
        [
            aim3,
            _("Municipalities per policy stage"),
            _("Not started"),
            policy.not_started,
            "",
            "",
            "",
        ]
    )
    for stage in policy.stages:
        out.append(
            [aim3, _("Municipalities per policy stage"), stage.label, stage.count, "", "", ""]
        )
    out.append(
        [aim3, _("Policies adopted in the period"), "", len(policy.adopted_in_period), "", "", ""]
    )
    return out


def csv_text(report: FollowUp, *, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([_("Period"), report.period.key, report.period.start, report.period.end])
    writer.writerow([_("Counties"), ", ".join(c.name for c in report.counties)])
    writer.writerow(
        [_("Generated"), timezone.localtime(report.generated_at).isoformat(timespec="minutes")]
    )
    writer.writerow([])
    writer.writerow(
        [_("Aim"), _("Measure"), _("Item"), _("Number"), _("Women"), _("Men"), _("Other")]
    )
    writer.writerows(rows(report))
    return BOM + buffer.getvalue()
