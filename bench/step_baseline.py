"""The raw-ORM baseline of each step: the same reads and the same rows as the service, written
as plainly as the ORM allows, in one transaction, without viewflow, signals or model `save()`.

Each step reads what the service reads before it writes: the process locked and loaded with
what the service loads (`select_for_update`, its municipality, leader and latest draft's
version), the actor's role in the county, the task refreshed under the lock, the step's own
reads (approvers, latest draft, old task links, the contact), and the municipality's contacts
(whose names the audit trail keeps out of its texts). It then writes the same rows into the same
tables: the domain rows and task rows with `bulk_create` / `QuerySet.update()`, their history
rows with simple-history's `bulk_history_create` (and the many-to-many history rows), each email
into the outbox inside a savepoint of its own (the unique idempotency key is the duplicate check,
as the service's; the service puts the decision's emails to the steering group in one savepoint,
the baseline keeps one each), and one audit event per history row appended to the
municipality's chain under its head row's lock, with one INSERT and one head update.

It writes into a closed process of its own, so that its rows never show as live work: the
process keeps its closed stage (its row is still updated where the service's is), and its tasks
are written cancelled where the service's stay open. `steps.census` compares the rows.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from audit import binding, chain
from audit.models import AuditEvent, ChainHead, Kind, chain_of
from municipalities.models import Contact, Membership
from notifications.models import Event, Notification
from workflows.flows import LEAD, PolicyAdoptionFlow
from workflows.models import (
    ApprovalAnswer,
    Decision,
    FirstContact,
    Meeting,
    PolicyDraft,
    PolicyProcess,
    TaskLink,
)

from .step_service import TEXT_A, TEXT_B, decision_fields

F = PolicyAdoptionFlow


def _m2m_history_model(model, field: str):
    """simple-history's table of ``model``'s many-to-many ``field``'s history rows."""
    from django.apps import apps

    table = f"{model._meta.app_label}_historical{model._meta.model_name}_{field}"
    return next(m for m in apps.get_models() if m._meta.db_table == table)


class Baseline:
    """One closed process and its own (cancelled) task, driven through every step."""

    def __init__(self, leader, process: PolicyProcess):
        self.leader = leader
        self.process = process
        self.contacts = list(
            Contact.objects.filter(municipality_id=process.municipality_id).order_by("pk")[:2]
        )
        if not self.contacts:
            raise RuntimeError("the baseline's municipality has no contact person")
        self.version = (
            PolicyDraft.objects.filter(process=process).order_by("-version").first().version
            if PolicyDraft.objects.filter(process=process).exists()
            else 0
        )
        self.task = self._task(F.draft, timezone.now())
        Task.objects.bulk_create([self.task])
        self.link: TaskLink | None = None
        self.turn = 0

    # --- the reads every step makes -----------------------------------------------------------

    def _open(self):
        """The process locked and loaded as the service loads it, the actor's role, the task
        refreshed under the lock."""
        latest = PolicyDraft.objects.filter(process=OuterRef("pk")).order_by("-version")
        process = (
            PolicyProcess.objects.select_related("municipality", "lead")
            .annotate(latest_draft_version=Subquery(latest.values("version")[:1]))
            .select_for_update(of=("self",))
            .get(pk=self.process.pk)
        )
        Membership.objects.filter(
            user=self.leader, project__county_id=process.municipality.county_id
        ).values_list("role", flat=True).first()
        self.task = Task.objects.get(pk=self.task.pk)
        return process

    # --- rows -----------------------------------------------------------------------------------

    def _task(self, node, now, *, done: bool = False) -> Task:
        return Task(
            process_id=self.process.pk,
            flow_task=node,
            flow_task_type=node.task_type,
            status=STATUS.DONE if done else STATUS.CANCELED,
            owner=self.leader if node.task_type == "HUMAN" else None,
            owner_permission=LEAD if node.task_type == "HUMAN" else None,
            created=now,
            started=now if done else None,
            finished=now if done else None,
        )

    def _finish(self, now, history) -> Task:
        """The step's task done (an update, as the service's)."""
        done = self.task
        done.status, done.started, done.finished, done.owner = STATUS.DONE, now, now, self.leader
        Task.objects.filter(pk=done.pk).update(
            status=STATUS.DONE, owner=self.leader, started=now, finished=now
        )
        history.append((Task, [done], True))
        return done

    def _next(self, previous: Task, nodes, now, history) -> Task:
        """The tasks the flow creates after ``previous``: gateways (created, then done) and the
        next step's task."""
        for node in nodes:
            gateway = node.task_type not in ("HUMAN", "FUNCTION")
            task = self._task(node, now)
            Task.objects.bulk_create([task])
            history.append((Task, [task], False))
            Task.previous.through.objects.bulk_create(
                [Task.previous.through(from_task_id=task.pk, to_task_id=previous.pk)]
            )
            if gateway:
                task.status, task.started, task.finished = STATUS.DONE, now, now
                Task.objects.filter(pk=task.pk).update(
                    status=STATUS.DONE, started=now, finished=now
                )
                history.append((Task, [task], True))
            previous = task
        self.task = previous
        return previous

    def _stage(self, process, now, history) -> None:
        """The process row updated (it keeps its closed stage), with its history row."""
        process.stage_entered_at = now
        PolicyProcess.objects.filter(pk=process.pk).update(
            stage=process.stage, stage_entered_at=now
        )
        history.append((PolicyProcess, [process], True))

    def _email(self, event, key: str, email: str, name: str, now, history) -> None:
        notification = Notification(
            event=event,
            idempotency_key=f"bench-baseline:{event}:{key}:{email}:{secrets.token_hex(4)}",
            topic=f"process:{self.process.pk}",
            recipient_email=email,
            recipient_name=name,
            subject="Benchmark baseline",
            body_text="Benchmark baseline",
            body_html="<p>Benchmark baseline</p>",
            next_attempt_at=now,
        )
        # The duplicate check is the unique key, inside a savepoint (as the outbox's).
        with transaction.atomic():
            Notification.objects.bulk_create([notification])
        history.append((Notification, [notification], False))

    def _record(self, process, history, now) -> None:
        """History rows (and many-to-many history rows), then one audit event each."""
        records = []
        approvers = None
        for model, objs, update in history:
            rows = model.history.bulk_history_create(
                objs, update=update, default_user=self.leader, default_date=now
            )
            if model is PolicyProcess:
                if approvers is None:
                    approvers = list(
                        PolicyProcess.approvers.through.objects.filter(policyprocess_id=process.pk)
                    )
                self._m2m_history(PolicyProcess, "approvers", rows, approvers, "policyprocess_id")
            if model is FirstContact and update:  # the new record had no contacts yet
                links = list(
                    FirstContact.contacts.through.objects.filter(firstcontact_id=objs[0].pk)
                )
                self._m2m_history(FirstContact, "contacts", rows, links, "firstcontact_id")
            records.extend(rows)
        # The people the texts must not name (as the audit trail reads them).
        list(
            Contact.objects.filter(municipality_id=process.municipality_id).values(
                "pk", "name", "email"
            )
        )
        head = chain.lock_head(chain_of(process.municipality_id))
        seq, prev = head.seq, head.hash
        occurred = max(now, head.occurred_at) if head.occurred_at else now
        events = []
        for record in records:
            seq += 1
            event = AuditEvent(
                chain=head.key,
                seq=seq,
                occurred_at=occurred,
                kind=Kind.RECORD_CREATED,
                actor_kind="user",
                actor_user=self.leader,
                actor_label=self.leader.get_full_name(),
                model_label=record.instance_type._meta.label_lower,
                object_id=str(record.instance_type._meta.pk.value_from_object(record) or ""),
                history_id=record.history_id,
                process_id=process.pk,
                municipality_id=process.municipality_id,
                stage=process.stage,
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
        ChainHead.objects.filter(key=head.key).update(
            seq=seq, hash=prev, occurred_at=occurred, county_code=head.county_code
        )

    @staticmethod
    def _m2m_history(model, field, records, links, parent) -> None:
        through = _m2m_history_model(model, field)
        target = "contact_id"
        for record in records:
            rows = [
                through(
                    **{parent: getattr(link, parent), target: getattr(link, target)},
                    id=link.pk,
                    history=record,
                )
                for link in links
            ]
            through.objects.bulk_create(rows)
            record.__dict__.setdefault("_m2m_rows", {})[through._meta.db_table] = rows

    # --- the steps ------------------------------------------------------------------------------

    def prepare(self, name: str):
        """The untimed work before step ``name``; returns the step to time."""
        if name == "record_first_contact":
            # The municipality's next process starts (not measured): a new contact task.
            self.task = self._task(F.contact, timezone.now())
            Task.objects.bulk_create([self.task])
            PolicyProcess.approvers.through.objects.filter(
                policyprocess_id=self.process.pk
            ).delete()
        return lambda: self.run(name)

    def run(self, name: str) -> None:
        self.turn += 1
        with transaction.atomic():
            process = self._open()
            now = timezone.now()
            history: list = []
            getattr(self, f"_{name}")(process, now, history)
            self._record(process, history, now)

    def _record_first_contact(self, process, now, history) -> None:
        record = FirstContact(
            process_id=process.pk,
            contacted_on=now.date(),
            channel="email",
            notes="Benchmark",
            recorded_by=self.leader,
            recorded_at=now,
        )
        FirstContact.objects.bulk_create([record])
        history.append((FirstContact, [record], False))
        list(FirstContact.contacts.through.objects.filter(firstcontact_id=record.pk))
        FirstContact.contacts.through.objects.bulk_create(
            [
                FirstContact.contacts.through(firstcontact_id=record.pk, contact_id=c.pk)
                for c in self.contacts
            ]
        )
        history.append((FirstContact, [record], True))
        # The approvers: the first contact person (the new process has none yet).
        through = PolicyProcess.approvers.through
        list(through.objects.filter(policyprocess_id=process.pk))
        through.objects.bulk_create(
            [through(policyprocess_id=process.pk, contact_id=self.contacts[0].pk)]
        )
        history.append((PolicyProcess, [process], True))
        self._stage(process, now, history)
        done = self._finish(now, history)
        self._next(done, [F.dialogue], now, history)

    def _complete_dialogue(self, process, now, history) -> None:
        Meeting.objects.filter(process_id=process.pk).exists()
        self._stage(process, now, history)
        done = self._finish(now, history)
        # The draft step follows the leader's own step: no email (`notify.step_opened`).
        self._next(done, [F.draft], now, history)

    def _lead(self, process) -> tuple[str, str]:
        # The steps' leader leads the service's processes (they started them).
        return self.leader.email or "bench@region.example", self.leader.get_full_name()

    def _write_draft(self, process, now, history) -> None:
        self.version += 1
        draft = PolicyDraft(
            process_id=process.pk,
            version=self.version,
            competition_section=TEXT_A.format(n=self.version),
            customer_section=TEXT_B.format(n=self.version),
            change_note="Benchmark",
            created_by=self.leader,
            created_at=now,
        )
        PolicyDraft.objects.bulk_create([draft])
        history.append((PolicyDraft, [draft], False))
        done = self._finish(now, history)
        self._next(done, [F.request_approval], now, history)

    def _request_approval(self, process, now, history) -> None:
        contact = self.contacts[0]
        list(Contact.objects.filter(pk__in=[contact.pk], is_active=True))
        draft = PolicyDraft.objects.filter(process_id=process.pk).order_by("-version").first()
        list(PolicyProcess.approvers.through.objects.filter(policyprocess_id=process.pk))
        self._stage(process, now, history)
        done = self._finish(now, history)
        approval = self._next(done, [F.approval], now, history)
        list(TaskLink.objects.select_for_update().filter(task_id=approval.pk, used_at=None))
        token = secrets.token_urlsafe(32)
        link = TaskLink(
            task_id=approval.pk,
            process_id=process.pk,
            contact=contact,
            draft=draft,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            created_by=self.leader,
            created_at=now,
            expires_at=now + datetime.timedelta(days=30),
        )
        TaskLink.objects.bulk_create([link])
        history.append((TaskLink, [link], False))
        self.link = link
        self._email(
            Event.APPROVAL_REQUESTED, f"link:{link.pk}", contact.email, contact.name, now, history
        )

    def _answer(self, process, now, history, answer: str, comment: str) -> None:
        link = TaskLink.objects.select_for_update().get(pk=self.link.pk)
        contact = Contact.objects.get(pk=link.contact_id)
        PolicyProcess.approvers.through.objects.filter(
            policyprocess_id=process.pk, contact_id=contact.pk
        ).exists()
        draft = PolicyDraft.objects.filter(process_id=process.pk).order_by("-version").first()
        record = ApprovalAnswer(
            process_id=process.pk,
            draft=draft,
            contact=contact,
            answer=answer,
            comment=comment,
            answered_at=now,
            via_link=link,
        )
        ApprovalAnswer.objects.bulk_create([record])
        history.append((ApprovalAnswer, [record], False))
        self._stage(process, now, history)
        done = self._finish(now, history)
        following = F.decision if answer == "approved" else F.draft
        self._next(done, [F.is_approved, following], now, history)
        for event, key in (
            (Event.TASK_ASSIGNED, f"task:{self.task.pk}"),
            (Event.ANSWER_RECEIVED, f"answer:{record.pk}"),
        ):
            self._email(event, key, *self._lead(process), now, history)
        link.used_at = now
        TaskLink.objects.filter(pk=link.pk).update(used_at=now)
        history.append((TaskLink, [link], True))

    def _answer_approval_changes(self, process, now, history) -> None:
        self._answer(process, now, history, "changes_requested", "Benchmark: one more version.")

    def _answer_approval_approved(self, process, now, history) -> None:
        self._answer(process, now, history, "approved", "")

    def _record_decision(self, process, now, history) -> None:
        from workflows.notify import steering_group

        fields = decision_fields(timezone.localdate())
        FirstContact.objects.filter(process_id=process.pk).values("contacted_on").first()
        ApprovalAnswer.objects.filter(process_id=process.pk, answer="approved").values(
            "answered_at"
        ).first()
        decision = Decision(
            process_id=process.pk, recorded_by=self.leader, recorded_at=now, **fields
        )
        Decision.objects.bulk_create([decision])
        history.append((Decision, [decision], False))
        for user in steering_group(process.municipality.county_id):
            self._email(
                Event.DECISION_RECORDED,
                f"decision:{decision.pk}",
                user.email,
                user.get_full_name(),
                now,
                history,
            )
        self._stage(process, now, history)
        done = self._finish(now, history)
        self._next(done, [F.is_settled, F.end], now, history)
        # The flow's end: the process row finished (viewflow's half and ours).
        Process.objects.filter(pk=process.pk).update(status=PROCESS.DONE, finished=now)
        self._stage(process, now, history)


def baseline_process() -> PolicyProcess:
    """A closed process with contact persons, so that the baseline's rows never show as live
    work."""
    from workflows.models import Stage

    return (
        PolicyProcess.objects.filter(stage=Stage.ADOPTED, municipality__contacts__isnull=False)
        .order_by("-pk")
        .first()
    )
