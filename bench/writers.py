"""(6) Writers in parallel: project leaders of different municipalities completing steps at the
same moment, with the mail worker delivering their emails, against one leader alone.

Each writer is a process of its own (its own connection, as gunicorn's workers are) driving one
process of its own municipality round the draft → request approval → answer loop of the step
part (`steps.StepLoop`: three steps a round) for a fixed time. First one writer alone, then
``writers`` at once (one per core by default); the mail worker delivers what they queue, in both
runs. `parallel_writers_ratio` is the steps per second of all writers together over one
writer's: with one audit chain per municipality nobody waits for another municipality's
transaction, so the ratio is bounded by the cores, not by a lock.
"""

from __future__ import annotations

import multiprocessing
import os
import time

from django.contrib.auth import get_user_model
from django.db import connections

from notifications.models import DeliveryStatus, Notification
from workflows.models import PolicyProcess

from .step_service import processes_at_draft
from .steps import StepLoop


def _writer(args) -> int:
    """One leader's steps until ``deadline`` (time.time()): how many."""
    leader_username, process_pk, deadline = args
    try:
        leader = get_user_model().objects.get(username=leader_username)
        loop = StepLoop(leader, [PolicyProcess.objects.get(pk=process_pk)])
        steps = 0
        while time.time() < deadline:
            loop.write_draft()
            steps += 3  # write the draft, request approval, the answer
        return steps
    finally:
        connections.close_all()


def _mail_worker(args) -> int:
    """The mail worker: delivers what the writers queue (emails after ``after_pk``) until
    ``deadline`` (into memory). What earlier parts left queued is not the writers' work: a
    backlog of it kept the worker busy in the single writer's run and not only there."""
    deadline, after_pk = args
    from django.conf import settings

    from notifications.delivery import deliver

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sent = 0
    try:
        while time.time() < deadline:
            queued = list(
                Notification.objects.filter(status=DeliveryStatus.QUEUED, pk__gt=after_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:20]
            )
            if not queued:
                time.sleep(0.05)
                continue
            for pk in queued:
                deliver(notification_id=pk)
                sent += 1
        return sent
    finally:
        connections.close_all()


def _run(leader_username: str, processes: list[int], seconds: float) -> dict:
    newest = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connections.close_all()  # each forked process opens its own
    deadline = time.time() + seconds
    context = multiprocessing.get_context("fork")
    jobs = [("writer", (leader_username, pk, deadline)) for pk in processes]
    jobs.append(("mail", (deadline, newest)))
    with context.Pool(len(jobs)) as pool:
        results = [
            pool.apply_async(_writer if kind == "writer" else _mail_worker, (args,))
            for kind, args in jobs
        ]
        done = [result.get(timeout=seconds + 300) for result in results]
    steps = sum(done[:-1])
    return {
        "writers": len(processes),
        "seconds": seconds,
        "steps": steps,
        "steps_per_s": round(steps / seconds, 2),
        "emails_delivered": done[-1],
    }


def measure(*, leader_username: str, seconds: float, writers: int | None = None) -> dict:
    writers = writers or max(os.cpu_count() or 1, 2)
    leader = get_user_model().objects.get(username=leader_username)
    processes = processes_at_draft(writers, leader)
    if len(processes) < writers:
        raise RuntimeError(f"{writers} writers need {writers} municipalities at the draft step")
    single = _run(leader_username, processes[:1], seconds)
    parallel = _run(leader_username, processes, seconds)
    return {
        "single": single,
        "parallel": parallel,
        "parallel_writers_ratio": round(parallel["steps_per_s"] / single["steps_per_s"], 2)
        if single["steps_per_s"]
        else None,
        "cores": os.cpu_count(),
    }
