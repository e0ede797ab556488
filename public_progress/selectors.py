"""Every read of the public progress page: what anyone may know of a county's progress.

Only what the municipalities' own public records say: where each municipality stands (a plain
stage, the date it was reached) and, once decided, the decision (body, meeting date, §, case
number) with the adopted text. Never contact persons, meeting notes, drafts in progress,
answers or comments: the querysets below load none of those fields.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from municipalities.models import County, Municipality
from workflows.models import (
    SETTLING_OUTCOMES,
    Decision,
    DecisionOutcome,
    PolicyDraft,
    PolicyProcess,
    Stage,
)

# A county's short name in addresses: "Kronobergs län" → "kronoberg", "Skåne län" → "skane".
COUNTY_SUFFIX = " län"


def county_slug(county: County) -> str:
    name = county.name.removesuffix(COUNTY_SUFFIX)
    if county.name.endswith(COUNTY_SUFFIX) and name.endswith("s"):
        name = name[:-1]  # the genitive: Kronobergs län, Stockholms län
    return slugify(name)


def municipality_slug(municipality: Municipality) -> str:
    return slugify(municipality.name)


# The public's words for the stages: what a resident can understand, and nothing of the
# project's internal steps (a draft sent for approval is still "a policy being drafted").
class PublicStage:
    NOT_STARTED = "not_started"
    CONTACT = "contact"
    DIALOGUE = "dialogue"
    DRAFTING = "drafting"
    AWAITING_DECISION = "awaiting_decision"
    ADOPTED = "adopted"
    REJECTED = "rejected"

    LABELS = {
        NOT_STARTED: _("Not started yet"),
        CONTACT: _("The project has contacted the municipality"),
        DIALOGUE: _("In dialogue with the project"),
        DRAFTING: _("A policy is being drafted"),
        AWAITING_DECISION: _("A proposed policy awaits the municipality's decision"),
        ADOPTED: _("Policy adopted"),
        REJECTED: _("Policy not adopted"),
    }

    FROM_STAGE = {
        Stage.CONTACT: CONTACT,
        Stage.DIALOGUE: DIALOGUE,
        Stage.DRAFTING: DRAFTING,
        Stage.AWAITING_APPROVAL: DRAFTING,
        Stage.AWAITING_DECISION: AWAITING_DECISION,
        Stage.ADOPTED: ADOPTED,
        Stage.REJECTED: REJECTED,
    }


@dataclass(frozen=True)
class PublicDecision:
    """A decision as the municipality's minutes show it."""

    pk: int
    body: str
    meeting_date: datetime.date
    paragraph: str
    case_number: str
    outcome: str
    outcome_label: str
    legal_force_date: datetime.date | None
    is_adopted: bool


@dataclass(frozen=True)
class PublicMunicipality:
    code: str
    name: str
    slug: str
    stage: str
    stage_label: str
    since: datetime.date | None
    # The current round's decision when it is decided (adopted or rejected).
    decision: PublicDecision | None
    # The policy in force: the latest adopted decision of any round (a revision may be under
    # way in the current one).
    in_force: PublicDecision | None

    @property
    def anchor(self) -> str:
        return f"kommun-{self.code}"


@dataclass(frozen=True)
class CountyProgress:
    county: County
    slug: str
    municipalities: list[PublicMunicipality]

    @property
    def adopted_count(self) -> int:
        return sum(1 for m in self.municipalities if m.in_force is not None)

    @property
    def started_count(self) -> int:
        return sum(1 for m in self.municipalities if m.stage != PublicStage.NOT_STARTED)


def public_counties() -> list[tuple[County, str]]:
    """The counties shown to the public, with their address slugs: those with a county project
    (their Region runs the project in PolicyFlow). One query."""
    counties = County.objects.filter(project__isnull=False).order_by("name")
    return [(county, county_slug(county)) for county in counties]


def county_by_slug(slug: str) -> County | None:
    for county, county_slug_ in public_counties():
        if slug in (county_slug_, county.code):
            return county
    return None


def _public_decision(decision: Decision) -> PublicDecision:
    return PublicDecision(
        pk=decision.pk,
        body=decision.body_label,
        meeting_date=decision.meeting_date,
        paragraph=decision.paragraph_label,
        case_number=decision.case_number,
        outcome=decision.outcome,
        outcome_label=decision.get_outcome_display(),
        legal_force_date=decision.legal_force_date,
        is_adopted=decision.outcome == DecisionOutcome.ADOPTED,
    )


# The only columns read: nothing else of a process or a decision can reach the page.
PROCESS_FIELDS = ("id", "municipality_id", "stage", "stage_entered_at", "created")
DECISION_FIELDS = (
    "id",
    "process_id",
    "body",
    "body_other",
    "meeting_date",
    "paragraph",
    "case_number",
    "outcome",
    "legal_force_date",
    "recorded_at",
)


def county_progress(county: County) -> CountyProgress:
    """Every municipality of ``county`` with its stage and decisions: three queries whatever
    the number of municipalities, processes and decisions."""
    processes = PolicyProcess.objects.only(*PROCESS_FIELDS).order_by("-created", "-pk")
    municipalities = (
        Municipality.objects.filter(county=county)
        .only("id", "code", "name", "county_id")
        .prefetch_related(Prefetch("policy_processes", queryset=processes))
        .order_by("name")
    )
    decisions_by_process: dict[int, list[Decision]] = {}
    live_decisions = (
        Decision.objects.filter(
            process__municipality__county=county,
            is_voided=False,
            outcome__in=SETTLING_OUTCOMES,
        )
        .only(*DECISION_FIELDS)
        .order_by("meeting_date", "recorded_at", "pk")
    )
    for decision in live_decisions:
        decisions_by_process.setdefault(decision.process_id, []).append(decision)
    rows = [_row(m, decisions_by_process) for m in municipalities]
    return CountyProgress(county=county, slug=county_slug(county), municipalities=rows)


def _row(municipality: Municipality, decisions_by_process: dict) -> PublicMunicipality:
    processes = list(municipality.policy_processes.all())  # newest first
    current = processes[0] if processes else None
    decision = in_force = None
    if current is not None:
        current_decisions = decisions_by_process.get(current.pk, [])
        if current.stage in (Stage.ADOPTED, Stage.REJECTED) and current_decisions:
            decision = _public_decision(current_decisions[-1])
    for process in processes:
        adopted = [
            d
            for d in decisions_by_process.get(process.pk, [])
            if d.outcome == DecisionOutcome.ADOPTED
        ]
        if process.stage == Stage.ADOPTED and adopted:
            in_force = _public_decision(adopted[-1])
            break
    stage = PublicStage.FROM_STAGE[current.stage] if current else PublicStage.NOT_STARTED
    return PublicMunicipality(
        code=municipality.code,
        name=municipality.name,
        slug=municipality_slug(municipality),
        stage=stage,
        stage_label=str(PublicStage.LABELS[stage]),
        since=timezone.localdate(current.stage_entered_at) if current else None,
        decision=decision,
        in_force=in_force,
    )


def municipality_in(progress: CountyProgress, slug: str) -> PublicMunicipality | None:
    for row in progress.municipalities:
        if slug in (row.slug, row.code):
            return row
    return None


@dataclass(frozen=True)
class AdoptedPolicy:
    municipality: PublicMunicipality
    county: County
    decision: PublicDecision
    draft: PolicyDraft


def adopted_policy(progress: CountyProgress, row: PublicMunicipality) -> AdoptedPolicy | None:
    """The text in force: the adopted round's last live draft (the version the municipality
    approved and decided on). One query."""
    if row.in_force is None:
        return None
    draft = (
        PolicyDraft.objects.filter(process__decisions__pk=row.in_force.pk, is_voided=False)
        .only("id", "version", "competition_section", "customer_section", "other_text")
        .order_by("-version")
        .first()
    )
    if draft is None:
        return None
    return AdoptedPolicy(
        municipality=row, county=progress.county, decision=row.in_force, draft=draft
    )
