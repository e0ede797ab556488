"""(1b) The plain viewflow peer: the same nodes as `workflows.flows.PolicyAdoptionFlow`
(contact → dialogue → draft → request approval → approval → decision) in a minimal viewflow 2.4
flow on tables of its own (`bench.models`), with no history, no audit trail and no outbox. Each
View step is completed as viewflow's own task view completes it on POST (the flow's lock, the
task read, the activation started, the step's row and the process saved, the activation
executed); the approval is a `flow.Handle` run with `Handle.run`, as the app runs its own.

`step_vs_viewflow_ratio` (the service's time over the peer's) is the price of the record: the
history rows, the audit chain and the outbox, plus the checks the app makes. It has no target.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.generic import View as NoPage
from viewflow import this
from viewflow.workflow import flow, lock

from municipalities.models import Contact

from .models import PeerAnswer, PeerDecision, PeerDraft, PeerFirstContact, PeerProcess, PeerTask
from .step_service import TEXT_A, TEXT_B, decision_fields

OPEN = ("NEW", "ASSIGNED", "STARTED")


class PeerFlow(flow.Flow):
    process_class = PeerProcess
    task_class = PeerTask
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.begin).Next(this.contact)
    contact = flow.View(NoPage.as_view()).Assign(this.lead_of).Next(this.dialogue)
    dialogue = flow.View(NoPage.as_view()).Assign(this.lead_of).Next(this.draft)
    draft = flow.View(NoPage.as_view()).Assign(this.lead_of).Next(this.request_approval)
    request_approval = flow.View(NoPage.as_view()).Assign(this.lead_of).Next(this.approval)
    approval = flow.Handle(this.answered).Next(this.is_approved)
    is_approved = flow.If(this.was_approved).Then(this.decision).Else(this.draft)
    decision = flow.View(NoPage.as_view()).Assign(this.lead_of).Next(this.is_settled)
    is_settled = flow.If(this.was_settled).Then(this.end).Else(this.dialogue)
    end = flow.End()

    def begin(self, activation, *, municipality, lead):
        activation.process.municipality = municipality
        activation.process.lead = lead
        return activation.process

    def lead_of(self, activation):
        return activation.process.lead

    def answered(self, activation, *, contact, answer, comment):
        process = activation.process
        PeerAnswer.objects.create(
            process=process,
            draft=process.drafts.order_by("-version").first(),
            contact=contact,
            answer=answer,
            comment=comment,
        )
        _enter(process, "awaiting_decision" if answer == "approved" else "drafting")

    def was_approved(self, activation) -> bool:
        return activation.process.stage == "awaiting_decision"

    def was_settled(self, activation) -> bool:
        return activation.process.stage in ("adopted", "rejected")


def _enter(process: PeerProcess, stage: str) -> None:
    process.stage, process.stage_entered_at = stage, timezone.now()
    process.save()


class PeerDriver:
    """Peer processes driven round the same steps as `step_service.ServiceDriver`."""

    def __init__(self, leader, municipalities: list):
        self.leader = leader
        self.turn = 0
        self.slots = []
        for municipality in municipalities:
            slot = {"municipality": municipality, "process": None}
            self.slots.append(slot)
            # To the draft step, where a round begins (not measured).
            for name in ("record_first_contact", "complete_dialogue"):
                self.prepare(name, slot)()

    def slot(self, round_number: int) -> dict:
        return self.slots[round_number % len(self.slots)]

    def _task(self, slot, node) -> PeerTask:
        return PeerTask.objects.get(process_id=slot["process"].pk, flow_task=node, status__in=OPEN)

    def _view_step(self, slot, node, work):
        """What viewflow's task view does on POST, with ``work`` as the form's save."""
        task_pk, process_pk = self._task(slot, node).pk, slot["process"].pk

        def step():
            with PeerFlow.lock(process_pk), transaction.atomic():
                task = PeerTask.objects.get(pk=task_pk)
                activation = node.activation_class(task)
                if not node.can_execute(self.leader, task):
                    raise PermissionError("not the task's owner")
                activation.start(None)
                work(activation.process)
                activation.execute()

        return step

    def prepare(self, name: str, slot: dict):
        self.turn += 1
        n = self.turn
        if name == "record_first_contact":
            # The adopted process ended: the municipality's next one starts (not measured).
            slot["process"] = PeerFlow.start.run(
                municipality=slot["municipality"], lead=self.leader
            )
            contacts = list(
                Contact.objects.filter(
                    municipality_id=slot["municipality"].pk, is_active=True
                ).order_by("pk")[:2]
            )
            slot["contacts"] = contacts

            def first_contact(process):
                record = PeerFirstContact.objects.create(
                    process=process,
                    contacted_on=timezone.localdate(),
                    channel="email",
                    notes="Benchmark",
                    recorded_by=self.leader,
                )
                record.contacts.set(contacts)
                process.approvers.set(contacts[:1])
                _enter(process, "dialogue")

            return self._view_step(slot, PeerFlow.contact, first_contact)
        if name == "complete_dialogue":
            return self._view_step(
                slot, PeerFlow.dialogue, lambda process: _enter(process, "drafting")
            )
        if name == "write_draft":

            def draft(process):
                latest = process.drafts.order_by("-version").first()
                PeerDraft.objects.create(
                    process=process,
                    version=(latest.version if latest else 0) + 1,
                    competition_section=TEXT_A.format(n=n),
                    customer_section=TEXT_B.format(n=n),
                    change_note="Benchmark",
                    created_by=self.leader,
                )

            return self._view_step(slot, PeerFlow.draft, draft)
        if name == "request_approval":

            def request(process):
                process.approvers.set(slot["contacts"][:1])
                _enter(process, "awaiting_approval")

            return self._view_step(slot, PeerFlow.request_approval, request)
        if name.startswith("answer_approval"):
            task = self._task(slot, PeerFlow.approval)
            approved = name.endswith("approved")
            return lambda: PeerFlow.approval.run(
                task,
                contact=slot["contacts"][0],
                answer="approved" if approved else "changes_requested",
                comment="" if approved else "Benchmark: one more version, please.",
            )
        if name == "record_decision":
            fields = decision_fields(timezone.localdate())

            def decide(process):
                PeerDecision.objects.create(process=process, recorded_by=self.leader, **fields)
                _enter(process, "adopted")

            return self._view_step(slot, PeerFlow.decision, decide)
        raise ValueError(name)
