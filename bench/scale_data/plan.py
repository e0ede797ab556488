"""The plan of the scale data: for each municipality, its contact persons and a series of policy
processes over the years (closed ones, then one open in a given stage), as timed operations.

Each operation says how many audit events it will write (`EVENTS`), so a municipality's
processes can be fitted to its share of the requested event count before anything is written;
the simulator checks every operation wrote exactly that many.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from workflows.models import Stage

STEERING_GROUP_SIZE = 6
OPEN_STAGES = [
    Stage.CONTACT,
    Stage.DIALOGUE,
    Stage.DRAFTING,
    Stage.AWAITING_APPROVAL,
    Stage.AWAITING_DECISION,
]


def events_of(kind: str, **args) -> int:
    """Audit events one operation writes (one per history row; see `simulate`)."""
    fixed = {
        # A step that follows the leader's own (the start, a step they completed) is not
        # emailed to them (`workflows.notify.step_opened`): no email in these four.
        "start": 3,  # process, start step, first step
        "first_contact": 6,  # record, its persons, approvers, stage, step done + next
        "meeting": 1,
        "complete_dialogue": 3,  # stage, step done, next step
        "write_draft": 3,  # draft, step done, next step
        "link_opened": 2,  # the link fetched, the page shown
        "reminder": 2,  # email queued + sent
        "answer": 11,  # link used, answer, stage, step done, gateway x2, next step, 2 emails
        "contact_person": 1,
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "request_approval":
        return 3 + 3 * args["approvers"]  # stage, step done, approval step; per person link+email
    if kind == "decision":
        # decision, emails to the steering group, stage, step done, gateway x2, then either
        # the end step x2 + process finished, or the dialogue step (no email: it follows the
        # leader's own decision step).
        settled = args["outcome"] in (Stage.ADOPTED, Stage.REJECTED)
        return 1 + 2 * STEERING_GROUP_SIZE + 2 + 2 + (3 if settled else 1)
    raise ValueError(kind)


@dataclass(order=True)
class Op:
    at: datetime.datetime
    order: int
    kind: str = field(compare=False)
    args: dict = field(compare=False, default_factory=dict)

    @property
    def events(self) -> int:
        return events_of(self.kind, **self.args)


@dataclass
class ProcessPlan:
    municipality_index: int
    ops: list[Op]
    target_stage: str  # the stage it ends in
    approvers: int
    dialogue_window: tuple[datetime.datetime, datetime.datetime] | None = None

    @property
    def events(self) -> int:
        return sum(op.events for op in self.ops)

    @property
    def start(self) -> datetime.datetime:
        return min(op.at for op in self.ops)

    @property
    def end(self) -> datetime.datetime:
        return max(op.at for op in self.ops)

    def shift(self, delta: datetime.timedelta) -> None:
        for op in self.ops:
            op.at += delta
        if self.dialogue_window:
            self.dialogue_window = (
                self.dialogue_window[0] + delta,
                self.dialogue_window[1] + delta,
            )


@dataclass
class MunicipalityPlan:
    index: int
    contacts: int
    contacts_at: datetime.datetime
    processes: list[ProcessPlan]  # oldest first; the last one is open

    @property
    def events(self) -> int:
        return self.contacts * events_of("contact_person") + sum(p.events for p in self.processes)


class _Clock:
    """Working-day times for one process's script, from a relative start."""

    def __init__(self, rng: random.Random, start: datetime.datetime):
        self.rng = rng
        self.now = start

    def after(self, low_days: float, high_days: float) -> datetime.datetime:
        days = self.rng.uniform(low_days, high_days)
        moment = self.now + datetime.timedelta(days=days)
        # Office hours, Swedish time (UTC+1/+2): 07:00–15:00 UTC.
        moment = moment.replace(
            hour=self.rng.randint(7, 14),
            minute=self.rng.randint(0, 59),
            second=self.rng.randint(0, 59),
            microsecond=self.rng.randint(0, 999_999),
        )
        if moment <= self.now:
            moment = self.now + datetime.timedelta(minutes=self.rng.randint(5, 90))
        self.now = moment
        return moment


def _script(
    rng: random.Random, municipality_index: int, *, until: str, approvers: int
) -> ProcessPlan:
    """One process from its start to ``until`` (a stage; adopted/rejected for a closed one)."""
    clock = _Clock(rng, datetime.datetime(2000, 1, 3, 8, tzinfo=datetime.UTC))
    ops: list[Op] = []

    def add(kind: str, at: datetime.datetime, **args) -> None:
        ops.append(Op(at, len(ops), kind, args))

    add("start", clock.after(0, 0))
    plan = ProcessPlan(municipality_index, ops, until, approvers)
    if until == Stage.CONTACT:
        return plan
    add("first_contact", clock.after(1, 12))
    window_start = clock.now
    for _ in range(rng.randint(3, 16)):
        add("meeting", clock.after(3, 14))
    plan.dialogue_window = (window_start, clock.now)
    if until == Stage.DIALOGUE:
        return plan
    add("complete_dialogue", clock.after(1, 6))

    def approval_round(*, approved: bool, stop_after_request: bool = False) -> None:
        add("write_draft", clock.after(2, 14))
        add("request_approval", clock.after(0, 3), approvers=approvers)
        requested = clock.now
        answer_in = rng.uniform(2, 24)
        for person in range(approvers):
            if person == 0 or rng.random() < 0.7:
                at = requested + datetime.timedelta(days=rng.uniform(0.05, max(answer_in, 0.1)))
                add("link_opened", max(at, requested), person=person)
        if answer_in > 7:
            for person in range(approvers):
                add("reminder", requested + datetime.timedelta(days=7, hours=1), person=person)
        if stop_after_request:
            return
        clock.now = requested + datetime.timedelta(days=answer_in)
        add("answer", clock.after(0, 0.5), approved=approved)

    rounds = rng.choices([1, 2, 3], weights=[45, 35, 20])[0]
    if until == Stage.DRAFTING:
        # Drafting again after the municipality asked for changes, or the first draft.
        for _ in range(rng.randint(0, 1)):
            approval_round(approved=False)
        return plan
    if until == Stage.AWAITING_APPROVAL:
        for _ in range(rounds - 1):
            approval_round(approved=False)
        approval_round(approved=False, stop_after_request=True)
        return plan
    for number in range(rounds):
        approval_round(approved=number == rounds - 1)
    if until == Stage.AWAITING_DECISION:
        return plan
    if rng.random() < 0.15:  # sent back (återremiss) or postponed: more dialogue, new round
        add("decision", clock.after(14, 60), outcome=rng.choice(["sent_back", "postponed"]))
        for _ in range(rng.randint(1, 4)):
            add("meeting", clock.after(3, 14))
        add("complete_dialogue", clock.after(1, 6))
        approval_round(approved=True)
    add("decision", clock.after(14, 70), outcome=until)
    return plan


def _closed_outcome(rng: random.Random) -> str:
    return Stage.ADOPTED if rng.random() < 0.85 else Stage.REJECTED


def plan_municipality(
    rng: random.Random, index: int, *, budget: int, now: datetime.datetime
) -> MunicipalityPlan:
    """Fit contacts, one open process and as many closed ones as the budget allows; fill the
    rest with dialogue meetings so the municipality writes exactly ``budget`` events."""
    contacts = rng.randint(2, 4)
    approvers = rng.randint(1, min(3, contacts))
    open_plan = _script(
        rng, index, until=OPEN_STAGES[index % len(OPEN_STAGES)], approvers=approvers
    )
    open_plan.shift(now - datetime.timedelta(hours=rng.uniform(2, 24 * 20)) - open_plan.end)
    processes = [open_plan]
    left = budget - contacts * events_of("contact_person") - open_plan.events
    while True:
        closed = _script(
            rng, index, until=_closed_outcome(rng), approvers=rng.randint(1, min(3, contacts))
        )
        if closed.events > left:
            break
        gap = datetime.timedelta(days=rng.uniform(1, 30))
        closed.shift(processes[0].start - gap - closed.end)
        processes.insert(0, closed)
        left -= closed.events
    if len(processes) < 2:
        raise ValueError("budget too small for a closed process")
    # The remainder: more meetings in the closed processes' dialogues.
    fillable = [p for p in processes[:-1] if p.dialogue_window]
    for _ in range(left):
        process = rng.choice(fillable)
        start, end = process.dialogue_window
        at = start + (end - start) * rng.random()
        process.ops.append(Op(at, len(process.ops), "meeting", {}))
    for process in processes:
        process.ops.sort()
    contacts_at = processes[0].start - datetime.timedelta(days=rng.uniform(1, 60))
    return MunicipalityPlan(index, contacts, contacts_at, processes)


def minimum_events_per_municipality() -> int:
    """A rough floor: contacts, an open process and one short closed process."""
    return 4 + 60 + 120


def plan_country(
    *, municipalities: int, events: int, seed: int, now: datetime.datetime
) -> list[MunicipalityPlan]:
    rng = random.Random(seed)
    base, extra = divmod(events, municipalities)
    plans = []
    for index in range(municipalities):
        budget = base + (1 if index < extra else 0)
        plans.append(plan_municipality(rng, index, budget=budget, now=now))
    return plans
