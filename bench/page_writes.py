"""Real steps while the pages are measured: the data version moves as it does when leaders work.

`Steps` drives processes of a few municipalities round the draft → request approval →
"changes requested" loop through the services, one step at a time (whichever of the three is
open), so each call is one user's step: its history rows, audit events and outbox email, a new
data version. `Background` runs them in a process of its own (as another gunicorn worker would),
one step every ``interval`` seconds, while the pages are loaded; `Steps.step` in the measuring
process gives "one request right after a write". Either way the processes end back at the draft
step, as the later parts (the step, the writers) expect them.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback

from django.contrib.auth import get_user_model
from django.db import connections
from viewflow.workflow.models import Task

from workflows import services
from workflows.flows import PolicyAdoptionFlow
from workflows.models import PolicyProcess

TEXT_A = "Kommunen kan reservera upphandlingar för ASF (sidmätning {n})."
TEXT_B = "Kommunen köper arbetsträning av ASF och delar upp kontrakt (sidmätning {n})."


class Steps:
    def __init__(self, leader, process_pks: list[int]):
        self.leader = leader
        self.process_pks = process_pks
        self.turn = 0

    def _open_task(self, process_pk: int) -> Task:
        nodes = (
            PolicyAdoptionFlow.draft,
            PolicyAdoptionFlow.request_approval,
            PolicyAdoptionFlow.approval,
        )
        for task in Task.objects.filter(
            process_id=process_pk, status__in=services.OPEN_TASK_STATUSES
        ).order_by("-created"):
            if task.flow_task in nodes:
                return task
        raise RuntimeError(f"process {process_pk} has no open draft or approval step")

    def _step_of(self, process_pk: int) -> str:
        task = self._open_task(process_pk)
        self.turn += 1
        if task.flow_task == PolicyAdoptionFlow.draft:
            services.write_draft(
                task=task,
                user=self.leader,
                competition_section=TEXT_A.format(n=self.turn),
                customer_section=TEXT_B.format(n=self.turn),
                change_note="Sidmätning",
            )
            return "write_draft"
        process = PolicyProcess.objects.get(pk=process_pk)
        approver = process.approvers.order_by("pk").first()
        if task.flow_task == PolicyAdoptionFlow.request_approval:
            services.request_approval(task=task, user=self.leader, approvers=[approver])
            return "request_approval"
        services.answer_approval(
            task=task,
            contact=approver,
            answer="changes_requested",
            comment="Sidmätning: en version till, tack.",
            recorded_by=self.leader,
        )
        return "answer_approval"

    def step(self) -> str:
        """One step of the next process in turn: the step's name."""
        process_pk = self.process_pks[self.turn % len(self.process_pks)]
        return self._step_of(process_pk)

    def back_to_draft(self) -> int:
        """Completes each process's loop, so that it waits at the draft step again."""
        done = 0
        for process_pk in self.process_pks:
            for _ in range(3):
                if self._open_task(process_pk).flow_task == PolicyAdoptionFlow.draft:
                    break
                self._step_of(process_pk)
                done += 1
        return done


def _run(leader_pk: int, process_pks: list[int], interval: float, stop, results) -> None:
    outcome = {"steps": 0, "failed": 0, "by_step": {}, "last_error": ""}
    started = time.monotonic()
    try:
        steps = Steps(get_user_model().objects.get(pk=leader_pk), process_pks)
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                name = steps.step()
                outcome["steps"] += 1
                outcome["by_step"][name] = outcome["by_step"].get(name, 0) + 1
            except Exception as error:  # noqa: BLE001 (counted and reported, the load goes on)
                outcome["failed"] += 1
                outcome["last_error"] = f"{type(error).__name__}: {error}"
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                stop.wait(delay)
            else:
                next_at = time.monotonic()  # behind: the next step now, no burst after
        outcome["seconds"] = round(time.monotonic() - started, 1)
        outcome["steps_after_stop"] = steps.back_to_draft()
    except Exception:  # noqa: BLE001 (the parent reports it)
        outcome["last_error"] = traceback.format_exc()[-1000:]
    finally:
        connections.close_all()
        results.put(outcome)


class Background:
    """``with Background(leader, processes, interval=0.2) as writes:`` real steps in a process
    of its own until the block ends; ``writes.outcome`` then says how many (and what failed)."""

    def __init__(self, leader, process_pks: list[int], *, interval: float):
        self.args = (leader.pk, process_pks, interval)
        self.outcome: dict = {}

    def __enter__(self) -> Background:
        connections.close_all()  # the child opens its own
        context = multiprocessing.get_context("fork")
        self.stop = context.Event()
        self.results = context.Queue()
        self.process = context.Process(
            target=_run, args=(*self.args, self.stop, self.results), daemon=True
        )
        self.process.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        try:
            self.outcome = self.results.get(timeout=120)
        except Exception as error:  # noqa: BLE001 (queue.Empty: the writer hung or died)
            self.outcome = {"last_error": f"no outcome from the writer: {error!r}"}
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        interval = self.args[2]
        if self.outcome.get("seconds"):
            self.outcome["steps_per_s"] = round(self.outcome["steps"] / self.outcome["seconds"], 2)
        self.outcome["interval_s"] = interval
        self.outcome["processes"] = len(self.args[1])
