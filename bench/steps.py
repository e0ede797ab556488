"""(1) A workflow step through the service, next to a raw-ORM baseline writing the same rows.

The measured step is `services.write_draft` (a project leader's typical step): viewflow's lock
and activation, the draft, the finished and the next task, their django-simple-history rows, the
outbox email and the audit events (the process stays in drafting, so its row is not written).
Between two measured steps the loop requests approval and records a "changes requested" answer
(through the services too, timed as well), which brings the process back to the draft step.

The baseline writes the same rows into the same tables (domain rows, history rows, the outbox
row, audit events appended to the municipality's chain under its head row's lock) with
`bulk_create` and `QuerySet.update()`, in one transaction, with no viewflow, no signals and no
checks. It writes into a closed process of its own, and its task is written cancelled, so that it
never shows as work to do. `census()` counts what each writes (pg_stat_xact_user_tables) to
show they match.
"""

from __future__ import annotations

import datetime
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit import binding, chain
from audit.models import AuditEvent, ChainHead, Kind, chain_of
from notifications.models import DeliveryStatus, Event, Notification
from workflows import services
from workflows.flows import PolicyAdoptionFlow
from workflows.models import PolicyDraft, PolicyProcess, Stage

from .load import percentile

TEXT_A = "Kommunen kan reservera upphandlingar för ASF (bench {n})."
TEXT_B = "Kommunen köper arbetsträning av ASF och delar upp kontrakt (bench {n})."


def _open_task(process_id: int, node) -> Task:
    return Task.objects.get(
        process_id=process_id, flow_task=node, status__in=services.OPEN_TASK_STATUSES
    )


def _stats() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables "
            "WHERE n_tup_ins > 0 OR n_tup_upd > 0"
        )
        return {name: (ins, upd) for name, ins, upd in cursor.fetchall()}


def census(work) -> dict[str, dict[str, int]]:
    """Rows each table got inserted and updated by ``work()`` (one transaction, committed)."""
    with transaction.atomic():
        before = _stats()
        work()
        after = _stats()
    written = {}
    for table, (ins, upd) in after.items():
        old_ins, old_upd = before.get(table, (0, 0))
        if ins - old_ins or upd - old_upd:
            written[table] = {"inserted": ins - old_ins, "updated": upd - old_upd}
    return dict(sorted(written.items()))


class StepLoop:
    """Drives processes in the draft stage round the draft → approval → changes loop."""

    def __init__(self, leader, processes: list[PolicyProcess]):
        self.leader = leader
        self.processes = processes
        self.turn = 0
        self.other: dict[str, list[float]] = {"request_approval": [], "answer_approval": []}
        self.cpu: list[float] = []  # this process's CPU time per measured step

    def write_draft(self, *, census_of: list | None = None) -> float:
        """One measured step; with ``census_of``, the rows it wrote are appended there."""
        process = self.processes[self.turn % len(self.processes)]
        self.turn += 1
        task = _open_task(process.pk, PolicyAdoptionFlow.draft)

        def step() -> None:
            services.write_draft(
                task=task,
                user=self.leader,
                competition_section=TEXT_A.format(n=self.turn),
                customer_section=TEXT_B.format(n=self.turn),
                change_note="Benchmark",
            )

        started, cpu = time.perf_counter(), time.process_time()
        if census_of is None:
            step()
        else:
            census_of.append(census(step))
        elapsed = time.perf_counter() - started
        self.cpu.append(time.process_time() - cpu)
        self._back_to_draft(process)
        return elapsed

    def _back_to_draft(self, process: PolicyProcess) -> None:
        task = _open_task(process.pk, PolicyAdoptionFlow.request_approval)
        approver = process.approvers.order_by("pk").first()
        started = time.perf_counter()
        issued = services.request_approval(task=task, user=self.leader, approvers=[approver])
        self.other["request_approval"].append(time.perf_counter() - started)
        task = _open_task(process.pk, PolicyAdoptionFlow.approval)
        started = time.perf_counter()
        services.answer_approval(
            task=task,
            contact=approver,
            answer="changes_requested",
            comment="Benchmark: one more version, please.",
            via_link=issued[0].link,
        )
        self.other["answer_approval"].append(time.perf_counter() - started)


class Baseline:
    """The same rows as `write_draft`, written as plainly as the ORM allows."""

    def __init__(self, leader, process: PolicyProcess):
        self.leader = leader
        self.process = process
        self.version = (
            PolicyDraft.objects.filter(process=process).order_by("-version").first().version
            if PolicyDraft.objects.filter(process=process).exists()
            else 0
        )
        self.draft_ref = PolicyAdoptionFlow.draft
        self.next_ref = PolicyAdoptionFlow.request_approval
        self.cpu: list[float] = []
        self.current = Task.objects.bulk_create(
            [
                Task(
                    process_id=process.pk,
                    flow_task=self.draft_ref,
                    flow_task_type="HUMAN",
                    status=STATUS.CANCELED,
                    owner=leader,
                    owner_permission="workflows.lead_policyprocess",
                    created=timezone.now(),
                )
            ]
        )[0]

    def write(self) -> float:
        started, cpu = time.perf_counter(), time.process_time()
        self._write()
        self.cpu.append(time.process_time() - cpu)
        return time.perf_counter() - started

    def _write(self) -> None:
        now = timezone.now()
        self.version += 1
        user, process = self.leader, self.process
        with transaction.atomic():
            draft = PolicyDraft(
                process=process,
                version=self.version,
                competition_section=TEXT_A.format(n=self.version),
                customer_section=TEXT_B.format(n=self.version),
                change_note="Benchmark",
                created_by=user,
                created_at=now,
            )
            PolicyDraft.objects.bulk_create([draft])
            # The step's task: finished (an update, as the service's), then the next one.
            done = self.current
            done.status, done.started, done.finished = STATUS.CANCELED, now, now
            Task.objects.filter(pk=done.pk).update(
                status=STATUS.CANCELED, owner=user, started=now, finished=now
            )
            following = Task(
                process_id=process.pk,
                flow_task=self.next_ref,
                flow_task_type="HUMAN",
                status=STATUS.CANCELED,
                owner=user,
                owner_permission="workflows.lead_policyprocess",
                created=now,
            )
            Task.objects.bulk_create([following])
            self.current = following
            Task.previous.through.objects.bulk_create(
                [Task.previous.through(from_task_id=following.pk, to_task_id=done.pk)]
            )
            notification = Notification(
                event=Event.TASK_ASSIGNED,
                idempotency_key=f"bench-baseline:{following.pk}",
                topic=f"process:{process.pk}",
                recipient_email=user.email or "bench@region.example",
                recipient_name=user.get_full_name(),
                subject="Benchmark baseline",
                body_text="Benchmark baseline",
                body_html="<p>Benchmark baseline</p>",
                status=DeliveryStatus.SENT,
                sent_at=now,
                next_attempt_at=now,
            )
            Notification.objects.bulk_create([notification])
            history = [
                PolicyDraft.history.bulk_history_create([draft], default_user=user)[0],
                Task.history.bulk_history_create([done], update=True, default_user=user)[0],
                Task.history.bulk_history_create([following], default_user=user)[0],
                Notification.history.bulk_history_create([notification])[0],
            ]
            self._events(history, now, user)

    def _events(self, history, now, user) -> None:
        head = chain.lock_head(chain_of(self.process.municipality_id))
        seq, prev = head.seq, head.hash
        occurred = max(now, head.occurred_at) if head.occurred_at else now
        events = []
        for record in history:
            seq += 1
            event = AuditEvent(
                chain=head.key,
                seq=seq,
                occurred_at=occurred,
                kind=Kind.RECORD_CREATED,
                actor_kind="user",
                actor_user=user,
                actor_label=user.get_full_name(),
                model_label=record.instance_type._meta.label_lower,
                object_id=str(record.pk),
                history_id=record.history_id,
                process_id=self.process.pk,
                municipality_id=self.process.municipality_id,
                stage=self.process.stage,
                summary="Benchmark baseline",
                personal={},
                personal_digest=chain.personal_digest({}),
                record_digest=binding.digest_of_record(record),
                prev_hash=prev,
            )
            event.hash = chain.event_hash(
                {name: getattr(event, name) for name in chain.HASHED_FIELDS}
            )
            prev = event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        ChainHead.objects.filter(key=head.key).update(seq=seq, hash=prev, occurred_at=occurred)


def _baseline_process() -> PolicyProcess:
    """A closed process, so that the baseline's rows never show as live work."""
    return PolicyProcess.objects.filter(stage=Stage.ADOPTED).order_by("-pk").first()


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "count": len(ms),
        "p50_ms": round(statistics.median(ms), 2) if ms else None,
        "p95_ms": round(percentile(ms, 95), 2) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
    }


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


def measure(*, steps: int, leader_username: str) -> dict:
    leader = get_user_model().objects.get(username=leader_username)
    waiting = waiting_at_draft().order_by("pk")
    if not waiting:
        raise RuntimeError("no process waits at the draft step")
    drafting = list(waiting[:8])
    loop = StepLoop(leader, drafting)
    baseline = Baseline(leader, _baseline_process())
    # Warm both paths (imports, caches), then count what one of each writes.
    loop.write_draft()
    baseline.write()
    counted: list[dict] = []
    loop.write_draft(census_of=counted)
    rows_service = counted[0]
    rows_baseline = census(baseline.write)
    service_times, baseline_times = [], []
    loop.cpu.clear()
    baseline.cpu.clear()
    deadline = time.monotonic() + 20 * 60
    for _ in range(steps):
        service_times.append(loop.write_draft())
        baseline_times.append(baseline.write())
        if time.monotonic() > deadline:
            break
    service, base = summary(service_times), summary(baseline_times)
    return {
        "step": "workflows.services.write_draft",
        "service": service,
        "baseline": base,
        "ratio_p50": round(service["p50_ms"] / base["p50_ms"], 2),
        "ratio_p95": round(service["p95_ms"] / base["p95_ms"], 2),
        # Python CPU time per step in this process (the database server's work aside): what
        # the step costs the app server whatever else runs on the machine.
        "service_cpu": summary(loop.cpu),
        "baseline_cpu": summary(baseline.cpu),
        "other_steps": {name: summary(times) for name, times in loop.other.items()},
        "rows_written": {"service": rows_service, "baseline": rows_baseline},
        "processes_driven": len(drafting),
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
