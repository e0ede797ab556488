"""The service side of the step part: processes driven round the whole flow through
`workflows.services` (and the contact's answer through `workflows.task_links`), one step at a
time, as project leaders and contacts make them.

A round on one process: write the draft, request approval, the contact asks for changes, write
the draft again, request approval, the contact approves, the decision (adopted, which ends the
process); then a new process of the same municipality (started untimed) gets its first contact,
a meeting (untimed) and the completed dialogue, which brings it back to the draft step where the
round began.
"""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

from django.db.models import Count
from django.utils import timezone
from viewflow.workflow.models import Task

from municipalities.models import Contact
from workflows import services, task_links
from workflows.flows import PolicyAdoptionFlow
from workflows.models import CLOSED_STAGES, PolicyProcess, Stage

# The steps of a round, in order (both answers of the contact are measured apart).
ROUND = [
    "write_draft",
    "request_approval",
    "answer_approval_changes",
    "write_draft",
    "request_approval",
    "answer_approval_approved",
    "record_decision",
    "record_first_contact",
    "complete_dialogue",
]
STEPS = list(dict.fromkeys(ROUND))

TEXT_A = "Kommunen kan reservera upphandlingar för ASF (bench {n})."
TEXT_B = "Kommunen köper arbetsträning av ASF och delar upp kontrakt (bench {n})."


def decision_fields(today: datetime.date) -> dict:
    """A decision taken today, certified and announced over the next days."""
    return {
        "body": "kf",
        "meeting_date": today,
        "paragraph": "57",
        "case_number": "KS 2026/39",
        "outcome": "adopted",
        "certification_date": today + datetime.timedelta(days=8),
        "announcement_date": today + datetime.timedelta(days=9),
    }


def open_task(process_id: int, node) -> Task:
    return Task.objects.get(
        process_id=process_id, flow_task=node, status__in=services.OPEN_TASK_STATUSES
    )


class Slot:
    """One municipality's process, wherever it is in the round."""

    def __init__(self, process: PolicyProcess):
        self.process = process
        self.token_hash = ""  # the latest task link's, for the contact's answer


class ServiceDriver:
    """``prepare(name)`` does the untimed work before step ``name`` and returns the step to time
    (a function of no arguments)."""

    def __init__(self, leader, processes: list[PolicyProcess]):
        self.leader = leader
        self.slots = [Slot(p) for p in processes]
        self.turn = 0

    def slot(self, round_number: int) -> Slot:
        return self.slots[round_number % len(self.slots)]

    def prepare(self, name: str, slot: Slot):
        self.turn += 1
        return getattr(self, f"_{name}")(slot)

    def _write_draft(self, slot: Slot):
        task = open_task(slot.process.pk, PolicyAdoptionFlow.draft)
        n = self.turn
        return lambda: services.write_draft(
            task=task,
            user=self.leader,
            competition_section=TEXT_A.format(n=n),
            customer_section=TEXT_B.format(n=n),
            change_note="Benchmark",
        )

    def _request_approval(self, slot: Slot):
        task = open_task(slot.process.pk, PolicyAdoptionFlow.request_approval)
        approver = slot.process.approvers.order_by("pk").first()

        def step():
            issued = services.request_approval(task=task, user=self.leader, approvers=[approver])
            token = parse_qs(urlsplit(issued[0].url).query)["t"][0]
            slot.token_hash = task_links.hash_token(token)

        return step

    def _answer(self, slot: Slot, answer: str, comment: str):
        return lambda: task_links.answer_via_link(
            token_hash=slot.token_hash, answer=answer, comment=comment
        )

    def _answer_approval_changes(self, slot: Slot):
        return self._answer(slot, "changes_requested", "Benchmark: one more version, please.")

    def _answer_approval_approved(self, slot: Slot):
        return self._answer(slot, "approved", "")

    def _record_decision(self, slot: Slot):
        task = open_task(slot.process.pk, PolicyAdoptionFlow.decision)
        fields = decision_fields(timezone.localdate())
        return lambda: services.record_decision(task=task, user=self.leader, **fields)

    def _record_first_contact(self, slot: Slot):
        slot.process.refresh_from_db(fields=["stage"])
        if slot.process.stage in CLOSED_STAGES:
            # The adopted process ended: the municipality's next one starts (not measured).
            slot.process = services.start_process(
                municipality=slot.process.municipality, user=self.leader
            )
        task = open_task(slot.process.pk, PolicyAdoptionFlow.contact)
        contacts = list(
            Contact.objects.filter(
                municipality_id=slot.process.municipality_id, is_active=True
            ).order_by("pk")[:2]
        )
        return lambda: services.record_first_contact(
            task=task,
            user=self.leader,
            contacted_on=timezone.localdate(),
            channel="email",
            contacts=contacts,
            approvers=contacts[:1],
            notes="Benchmark",
        )

    def _complete_dialogue(self, slot: Slot):
        services.record_meeting(  # not measured: the dialogue needs one
            process=slot.process,
            user=self.leader,
            held_on=timezone.localdate(),
            participants="Benchmark",
        )
        task = open_task(slot.process.pk, PolicyAdoptionFlow.dialogue)
        return lambda: services.complete_dialogue(task=task, user=self.leader)


def waiting_at_draft():
    """Processes waiting at the draft step with someone to approve: where the loop can run."""
    return (
        PolicyProcess.objects.filter(stage=Stage.DRAFTING)
        .filter(
            pk__in=Task.objects.filter(
                flow_task=PolicyAdoptionFlow.draft, status__in=services.OPEN_TASK_STATUSES
            ).values("process_id")
        )
        .annotate(approver_count=Count("approvers"))
        .filter(approver_count__gte=1)
    )


def processes_at_draft(count: int, leader, *, county=None) -> list[int]:
    """``count`` processes waiting at the draft step, each of another municipality. Where fewer
    municipalities have one (the tiny data set), open processes of other municipalities at the
    contact or dialogue step are brought to the draft step first, through the services, by
    ``leader``; fewer than ``count`` only when the data has no more. With ``county``, its
    municipalities' processes come first, brought to the draft step before another county's
    waiting one is taken (the pages' writes: a page of that county then lives them)."""
    chosen: dict[int, int] = {}  # municipality → its process, in the order chosen
    scopes = [{"municipality__county": county}] if county is not None else []
    for scope in [*scopes, {}]:
        _choose(chosen, count, leader, scope)
        if len(chosen) >= count:
            break
    if not chosen:
        raise RuntimeError("no process waits at the draft step")
    return list(chosen.values())[:count]


def _choose(chosen: dict[int, int], count: int, leader, scope: dict) -> None:
    """Adds the processes of ``scope`` (filters of `PolicyProcess`) waiting at the draft step to
    ``chosen``, then brings others of ``scope`` there while fewer than ``count`` are chosen."""
    waiting = waiting_at_draft().filter(**scope).order_by("municipality_id", "pk")
    for pk, municipality_id in waiting.values_list("pk", "municipality_id"):
        chosen.setdefault(municipality_id, pk)
    if len(chosen) >= count:
        return
    earlier = PolicyProcess.objects.filter(stage__in=(Stage.CONTACT, Stage.DIALOGUE), **scope)
    for process in earlier.exclude(municipality_id__in=list(chosen)).order_by(
        "municipality_id", "pk"
    ):
        if len(chosen) == count:
            break
        if process.municipality_id not in chosen:
            _bring_to_draft(process, leader)
            chosen[process.municipality_id] = process.pk


def _bring_to_draft(process: PolicyProcess, leader) -> None:
    """A process at the contact or dialogue step to the draft step, as a leader takes it there:
    the first contact (its municipality's contact to approve), a meeting, the dialogue done."""
    driver = ServiceDriver(leader, [process])
    slot = driver.slot(0)
    if process.stage == Stage.CONTACT:
        driver.prepare("record_first_contact", slot)()
    driver.prepare("complete_dialogue", slot)()
