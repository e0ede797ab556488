"""Plays the planned operations in time order, writing what the services would have written:
live rows, django-simple-history rows and one audit event per history row.

The shapes follow what `workflows.services` writes through viewflow and simple-history (checked
against a real run): a step opens a task, the task's owner is emailed unless they opened it
themselves (by completing the step before it, or by starting the process), completing it writes
the task, the process's stage and the step's own record; an approval issues one task link per
contact.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from viewflow.workflow.models import Process, Task

from audit import binding
from audit.models import ActorKind, AuditEvent, Kind
from municipalities.models import Contact, County, Municipality
from notifications.models import DeliveryStatus, Event, Notification
from notifications.outbox import make_idempotency_key
from workflows.flows import PolicyAdoptionFlow
from workflows.legal_dates import appeal_deadline
from workflows.models import (
    AnswerKind,
    ApprovalAnswer,
    ContactChannel,
    Decision,
    DecisionBody,
    DecisionOutcome,
    FirstContact,
    Meeting,
    PolicyDraft,
    PolicyProcess,
    Stage,
    TaskLink,
)
from workflows.notify import reminder_key
from workflows.reminders import AFTER

from . import names
from .plan import Op
from .rows import Ids, Sink, Tracked, model_by_table

LEAD_PERMISSION = "workflows.lead_policyprocess"
SECOND = datetime.timedelta(seconds=1)
MS = datetime.timedelta(milliseconds=1)


@dataclass(frozen=True)
class User:
    id: int
    label: str
    email: str


@dataclass(frozen=True)
class Actor:
    kind: str
    user_id: int | None = None
    label: str = ""
    person_id: int | None = None


@dataclass
class Place:
    id: int
    name: str
    code: str
    county_code: str
    slug: str
    contacts: list[dict] = field(default_factory=list)


def _history_m2m(name: str):
    return model_by_table(f"workflows_historical{name}")


def writing_order() -> list:
    """Parents before children, so that the rows of one flush satisfy every foreign key."""
    return [
        County,
        Municipality,
        Contact,
        Process,
        PolicyProcess,
        PolicyProcess.approvers.through,
        Task,
        Task.previous.through,
        FirstContact,
        FirstContact.contacts.through,
        Meeting,
        PolicyDraft,
        TaskLink,
        ApprovalAnswer,
        Decision,
        Notification,
        County.history.model,
        Municipality.history.model,
        Contact.history.model,
        PolicyProcess.history.model,
        _history_m2m("policyprocess_approvers"),
        Task.history.model,
        FirstContact.history.model,
        _history_m2m("firstcontact_contacts"),
        Meeting.history.model,
        PolicyDraft.history.model,
        TaskLink.history.model,
        ApprovalAnswer.history.model,
        Decision.history.model,
        Notification.history.model,
        AuditEvent,
    ]


class World:
    """Shared state of the generation: ids, tables, the chain, people and places."""

    def __init__(self, *, rng, sink: Sink, ids: Ids, chain, leaders, steering, places, now):
        self.rng: random.Random = rng
        self.sink = sink
        self.ids = ids
        self.chain = chain
        self.leaders: list[User] = leaders
        self.steering: list[User] = steering
        self.places: list[Place] = places
        self.now: datetime.datetime = now
        self.tracked = {
            County: Tracked(County),
            Municipality: Tracked(Municipality),
            Contact: Tracked(Contact, personal=["name", "title", "email", "phone"]),
            PolicyProcess: Tracked(PolicyProcess),
            Task: Tracked(Task),
            FirstContact: Tracked(FirstContact, personal=["notes"]),
            Meeting: Tracked(Meeting, personal=["participants", "notes"]),
            PolicyDraft: Tracked(PolicyDraft),
            TaskLink: Tracked(TaskLink),
            ApprovalAnswer: Tracked(ApprovalAnswer),
            Decision: Tracked(Decision),
            Notification: Tracked(
                Notification,
                personal=["recipient_email", "recipient_name", "idempotency_key"],
            ),
        }
        # `Model.history` builds a new manager class on every access: look it up once.
        self.history_models = {model: model.history.model for model in self.tracked}
        self.m2m_history = {
            PolicyProcess: (_history_m2m("policyprocess_approvers"), "policyprocess_id"),
            FirstContact: (_history_m2m("firstcontact_contacts"), "firstcontact_id"),
        }
        flow_task = Task._meta.get_field("flow_task")
        self.node_ref = {
            node.name: flow_task.get_prep_value(node)
            for node in PolicyAdoptionFlow.instance.nodes()
        }
        self.node_title = {
            node.name: str(getattr(node, "task_title", "") or node.name)
            for node in PolicyAdoptionFlow.instance.nodes()
        }
        self.flow_class = Process._meta.get_field("flow_class").get_prep_value(PolicyAdoptionFlow)
        self.emitted = 0

    # --- Writing helpers ----------------------------------------------------------------------

    def salt(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def history(
        self,
        model,
        row: dict,
        previous: dict | None,
        *,
        when: datetime.datetime,
        actor: Actor,
        reason: str,
        kind: str,
        summary: str,
        event_reason: str | None = None,
        place: Place | None,
        process: dict | None,
        m2m: list[dict] | None = None,
        extra_changes: dict | None = None,
        people: dict[int, dict] | None = None,
    ) -> dict:
        """Write one history row of ``row`` and its audit event; return the snapshot."""
        history_model = self.history_models[model]
        history_id = self.ids.take(history_model)
        snapshot = dict(row)
        written = self.sink[history_model].add(
            {
                **snapshot,
                "history_id": history_id,
                "history_date": when,
                "history_change_reason": reason[:100] or None,
                "history_type": "~" if previous is not None else "+",
                "history_user_id": actor.user_id if actor.kind == ActorKind.USER else None,
            }
        )
        children: dict[str, list[dict]] = {}
        if m2m is not None:
            m2m_model, own_key = self.m2m_history[model]
            children[m2m_model._meta.db_table] = linked = []
            for through in m2m:
                linked.append(
                    self.sink[m2m_model].add(
                        {
                            "m2m_history_id": self.ids.take(m2m_model),
                            "id": through["id"],
                            "contact_id": through["contact_id"],
                            "history_id": history_id,
                            own_key: through[own_key],
                        }
                    )
                )
        # What the audit app binds to the event (`audit.binding`), from the values written.
        record_digest = binding.digest_of_values(history_model, written, children, self.chain.key)
        public, personal_changes = self.tracked[model].changes(previous, row)
        if extra_changes:
            public.update(extra_changes)
        people = dict(people or {})
        if actor.person_id is not None:
            people.setdefault(actor.person_id, self.person(place, actor.person_id))
        personal = {}
        if people or personal_changes:
            personal = {"salt": self.salt()}
            if people:
                personal["people"] = {str(pk): people[pk] for pk in sorted(people)}
            if personal_changes:
                personal["changes"] = personal_changes
        pk = row.get("id")
        self.chain.append(
            {
                "occurred_at": when,
                "kind": kind,
                "actor_kind": actor.kind,
                "actor_user_id": actor.user_id,
                "actor_label": actor.label,
                "model_label": model._meta.label_lower,
                "object_id": str(pk),
                "history_id": history_id,
                "process_id": process["id"] if process else None,
                "municipality_id": place.id if place else None,
                "municipality_name": place.name if place else "",
                "county_code": place.county_code if place else "",
                "stage": process["stage"] if process else "",
                "summary": summary,
                "reason": reason if event_reason is None else event_reason,
                "changes": public,
                "personal": personal,
                "record_digest": record_digest,
            }
        )
        self.emitted += 1
        return snapshot

    def person(self, place: Place, contact_id: int) -> dict:
        for contact in place.contacts:
            if contact["id"] == contact_id:
                return {"name": contact["name"], "email": contact["email"]}
        raise LookupError(contact_id)

    # --- Municipality-level operations --------------------------------------------------------

    def add_contacts(self, place: Place, count: int, when: datetime.datetime) -> None:
        admin = self.leaders[0]
        actor = Actor(ActorKind.USER, admin.id, admin.label)
        domain = f"{place.slug}.example"
        for number in range(count):
            first, last = names.person_name(self.rng)
            email = names.email_for(first, last, domain)
            if any(c["email"] == email for c in place.contacts):
                email = email.replace("@", f"{number}@")
            row = {
                "id": self.ids.take(Contact),
                "municipality_id": place.id,
                "name": f"{first} {last}",
                "title": self.rng.choice(names.TITLES),
                "email": email,
                "phone": f"0{self.rng.randint(10, 980)}-{self.rng.randint(100000, 999999)}",
                "is_active": True,
                "language": "en" if self.rng.random() < 0.05 else "sv",
            }
            place.contacts.append(row)
            self.sink[Contact].add(row)
            self.history(
                Contact,
                row,
                None,
                when=when + number * SECOND,
                actor=actor,
                reason="",
                kind=Kind.CONTACT_PERSON_ADDED,
                summary=_("Contact person %(name)s added") % {"name": f"⟦p:{row['id']}⟧"},
                place=place,
                process=None,
                people={row["id"]: {"name": row["name"], "email": email}},
            )


class ProcessSim:
    """One process's live rows while it runs; its operations write rows, history and events."""

    def __init__(self, world: World, place: Place, lead: User, approvers: int, op_count: int):
        self.w = world
        self.place = place
        self.lead = lead
        self.lead_actor = Actor(ActorKind.USER, lead.id, lead.label)
        self.approver_count = approvers
        self.approvers: list[dict] = []
        self.ops_left = op_count
        self.row: dict = {}
        self.snapshot: dict | None = None
        self.approver_rows: list[dict] = []
        self.tasks: list[dict] = []
        self.task_snapshots: dict[int, dict] = {}
        self.open_task: dict | None = None
        self.drafts: list[dict] = []
        self.links: list[dict] = []  # the current approval round's
        self.all_links: list[dict] = []
        self.link_snapshots: dict[int, dict] = {}
        self.approval_task: dict | None = None

    # --- Small pieces -------------------------------------------------------------------------

    def _record(self, model, row, previous, when, actor, reason, kind, summary, **kw) -> dict:
        return self.w.history(
            model,
            row,
            previous,
            when=when,
            actor=actor,
            reason=reason,
            kind=kind,
            summary=summary,
            place=self.place,
            process=self.row,
            **kw,
        )

    def _process_history(self, when, actor, reason, kind, summary, **kw) -> None:
        self.snapshot = self._record(
            PolicyProcess,
            self.row,
            self.snapshot,
            when,
            actor,
            reason,
            kind,
            summary,
            m2m=self.approver_rows,
            **kw,
        )

    def _set_stage(self, stage: str, when, actor, reason: str, event_reason: str | None = None):
        old = self.row["stage"]
        self.row["stage"], self.row["stage_entered_at"] = stage, when
        self._process_history(
            when,
            actor,
            reason,
            Kind.STAGE_CHANGED,
            _("Stage: %(old)s → %(new)s") % {"old": Stage(old).label, "new": Stage(stage).label},
            event_reason=event_reason,
        )

    def _open_task(self, node: str, when, actor, *, kind: str = "HUMAN", **state) -> dict:
        is_human = kind == "HUMAN"
        task = {
            "id": self.w.ids.take(Task),
            "flow_task": self.w.node_ref[node],
            "flow_task_type": kind,
            "status": "ASSIGNED" if is_human else "NEW",
            "created": when,
            "token": "start",
            "owner_permission": LEAD_PERMISSION if is_human else None,
            "owner_id": self.lead.id if is_human else None,
            "process_id": self.row["id"],
            "data": {},
            "node": node,
            **state,
        }
        opened_by = self._opened_by()
        if self.tasks:
            through = Task.previous.through
            self.w.sink[through].add(
                {
                    "id": self.w.ids.take(through),
                    "from_task_id": task["id"],
                    "to_task_id": self.tasks[-1]["id"],
                }
            )
        self.tasks.append(task)
        self.task_snapshots[task["id"]] = self._record(
            Task, task, None, when, actor, "", Kind.STEP_OPENED, self.w.node_title[node]
        )
        if is_human:
            self.open_task = task
        # As `workflows.notify.step_opened`: the leader is not emailed about a step that
        # follows one they completed themselves (or the start, which they made).
        if is_human and opened_by != task["owner_id"]:
            self._email(
                Event.TASK_ASSIGNED,
                f"task:{task['id']}",
                (self.lead.email, self.lead.label, "sv"),
                _("New task in PolicyFlow: %(task)s – %(municipality)s")
                % {"task": self.w.node_title[node], "municipality": self.place.name},
                when + MS,
                actor,
            )
        return task

    def _opened_by(self) -> int | None:
        """The user whose action opens the next step (`workflows.notify._opened_by`): the owner
        of the step before it, through the gateways; the leader after the start; None after
        the approval step (the municipality's answer opened it)."""
        gateways = ("EXCLUSIVE_GATEWAY", "SWITCH")
        steps = (t for t in reversed(self.tasks) if t["flow_task_type"] not in gateways)
        previous = next(steps, None)
        if previous is None:
            return None
        if previous["flow_task_type"] == "START":
            return self.lead.id
        is_completed_step = previous["flow_task_type"] == "HUMAN" and previous["status"] == "DONE"
        return previous["owner_id"] if is_completed_step else None

    def _finish_task(self, task: dict, when, actor, reason: str, event_reason=None) -> None:
        task["status"] = "DONE"
        if task["flow_task_type"] not in ("EXCLUSIVE_GATEWAY", "SWITCH"):
            task["started"] = task.get("started") or when - 40 * MS
        task["finished"] = when
        self.task_snapshots[task["id"]] = self._record(
            Task,
            task,
            self.task_snapshots[task["id"]],
            when,
            actor,
            reason,
            Kind.STEP_COMPLETED,
            self.w.node_title[task["node"]],
            event_reason=event_reason,
        )
        if task is self.open_task:
            self.open_task = None

    def _gateway(self, node: str, kind: str, when, actor) -> None:
        task = self._open_task(node, when, actor, kind=kind)
        self._finish_task(task, when + 5 * MS, actor, "")

    def _email(self, event, key, recipient, subject, when, actor, people=None) -> None:
        email, name, language = recipient
        nid = self.w.ids.take(Notification)
        url = f"{settings.SITE_URL}/processes/{self.row['id']}/"
        row = {
            "id": nid,
            "event": event,
            "idempotency_key": make_idempotency_key(event=event, key=key, recipient_email=email),
            "topic": f"process:{self.row['id']}",
            "recipient_email": email,
            "recipient_name": name,
            "language": language,
            "subject": subject[:255],
            "body_text": f"Hej {name}!\n\n{subject}.\n\n{url}\n\nVänliga hälsningar\nPolicyFlow\n",
            "body_html": (
                f'<!DOCTYPE html><html lang="{language}"><body><h1>{subject}</h1>'
                f'<p>Hej {name}!</p><p><a href="{url}">{subject}</a></p></body></html>'
            ),
            "status": DeliveryStatus.QUEUED,
            "attempts": 0,
            "last_error": "",
            "created_at": when,
            "next_attempt_at": when,
            "sent_at": None,
        }
        label = Event(event).label
        queued = self._record(
            Notification,
            row,
            None,
            when,
            actor,
            _("Queued"),
            Kind.NOTIFICATION_QUEUED,
            _("Email queued: %(event)s") % {"event": label},
            people=people,
        )
        sent_at = when + datetime.timedelta(seconds=self.w.rng.uniform(0.3, 20))
        row.update(status=DeliveryStatus.SENT, attempts=1, sent_at=sent_at)
        self._record(
            Notification,
            row,
            queued,
            sent_at,
            Actor(ActorKind.SYSTEM, label=_("PolicyFlow")),
            _("Sent (attempt %(attempt)s)") % {"attempt": 1},
            Kind.NOTIFICATION_SENT,
            _("Email sent: %(event)s") % {"event": label},
            people=people,
        )
        self.w.sink[Notification].add(row)

    def _contact_people(self, *contacts: dict) -> dict[int, dict]:
        return {c["id"]: {"name": c["name"], "email": c["email"]} for c in contacts}

    # --- Operations ---------------------------------------------------------------------------

    def run(self, op: Op) -> None:
        before = self.w.emitted
        getattr(self, f"op_{op.kind}")(op.at, **op.args)
        written = self.w.emitted - before
        if written != op.events:
            raise AssertionError(f"{op.kind} wrote {written} events, planned {op.events}")
        self.ops_left -= 1
        if self.ops_left == 0:
            self.finish()

    def op_start(self, at) -> None:
        self.approvers = self.w.rng.sample(self.place.contacts, self.approver_count)
        pid = self.w.ids.take(Process)
        self.row = {
            "id": pid,
            "process_ptr_id": pid,
            "flow_class": self.w.flow_class,
            "status": "NEW",
            "created": at,
            "finished": None,
            "data": {},
            "stage": Stage.CONTACT,
            "stage_entered_at": at,
            "lead_id": self.lead.id,
            "municipality_id": self.place.id,
        }
        self._process_history(
            at, self.lead_actor, _("Process started"), Kind.PROCESS_STARTED,
            _("Policy process started"),
        )  # fmt: skip
        # The start step is written once, already done (as viewflow's StartHandle does).
        self._open_task(
            "start", at + MS, self.lead_actor, kind="START",
            status="DONE", started=at + MS, finished=at + 20 * MS,
        )  # fmt: skip
        self._open_task("contact", at + 30 * MS, self.lead_actor)

    def op_first_contact(self, at) -> None:
        actor, reason = self.lead_actor, _("First contact recorded")
        reached = self.w.rng.sample(self.place.contacts, self.w.rng.randint(1, 2))
        record = {
            "id": self.w.ids.take(FirstContact),
            "process_id": self.row["id"],
            "contacted_on": at.date() - datetime.timedelta(days=self.w.rng.randint(0, 5)),
            "channel": self.w.rng.choice(ContactChannel.values),
            "notes": self.w.rng.choice(names.MEETING_NOTES),
            "recorded_by_id": self.lead.id,
            "recorded_at": at,
        }
        self.w.sink[FirstContact].add(record)
        first = self._record(
            FirstContact, record, None, at, actor, reason, Kind.CONTACT_RECORDED,
            _("First contact (%(channel)s) on %(date)s")
            % {"channel": ContactChannel(record["channel"]).label, "date": record["contacted_on"]},
            m2m=[],
        )  # fmt: skip
        through = FirstContact.contacts.through
        links = []
        for contact in reached:
            link = {"id": self.w.ids.take(through), "firstcontact_id": record["id"]}
            link["contact_id"] = contact["id"]
            self.w.sink[through].add(link)
            links.append(link)
        self._record(
            FirstContact, record, first, at + MS, actor, reason, Kind.CONTACT_RECORDED,
            _("Persons reached recorded"), m2m=links,
            extra_changes={"contacts": [[], sorted(c["id"] for c in reached)]},
        )  # fmt: skip
        through = PolicyProcess.approvers.through
        for contact in self.approvers:
            row = {"id": self.w.ids.take(through), "policyprocess_id": self.row["id"]}
            row["contact_id"] = contact["id"]
            self.w.sink[through].add(row)
            self.approver_rows.append(row)
        chosen = ", ".join(f"⟦p:{c['id']}⟧" for c in self.approvers) or "–"
        self._process_history(
            at + 2 * MS, actor, reason, Kind.APPROVERS_CHOSEN,
            _("Contact persons who approve: %(names)s") % {"names": chosen},
            extra_changes={"approvers": [[], sorted(c["id"] for c in self.approvers)]},
            people={c["id"]: {"name": c["name"], "email": c["email"]} for c in self.approvers},
        )  # fmt: skip
        self._set_stage(Stage.DIALOGUE, at + 3 * MS, actor, reason)
        self._finish_task(self.open_task, at + 4 * MS, actor, reason)
        self._open_task("dialogue", at + 5 * MS, actor)

    def op_meeting(self, at) -> None:
        people = self.w.rng.sample(self.place.contacts, min(2, len(self.place.contacts)))
        participants = ", ".join(
            [c["name"] for c in people]
            + [self.lead.label, self.w.rng.choice(names.OTHER_PARTICIPANTS)]
        )
        record = {
            "id": self.w.ids.take(Meeting),
            "process_id": self.row["id"],
            "held_on": at.date() - datetime.timedelta(days=self.w.rng.randint(0, 3)),
            "participants": participants,
            "notes": self.w.rng.choice(names.MEETING_NOTES),
            "recorded_by_id": self.lead.id,
            "recorded_at": at,
            "is_voided": False,
            "voided_reason": "",
        }
        self.w.sink[Meeting].add(record)
        self._record(
            Meeting, record, None, at, self.lead_actor, _("Meeting recorded"),
            Kind.MEETING_RECORDED, _("Meeting on %(date)s") % {"date": record["held_on"]},
            people=self._contact_people(*people),
        )  # fmt: skip

    def op_complete_dialogue(self, at) -> None:
        actor = self.lead_actor
        self._set_stage(Stage.DRAFTING, at, actor, _("Dialogue completed"))
        self._finish_task(self.open_task, at + MS, actor, _("Dialogue completed, ready to draft"))
        self._open_task("draft", at + 2 * MS, actor)

    def op_write_draft(self, at) -> None:
        actor, rng = self.lead_actor, self.w.rng
        version = len(self.drafts) + 1
        reason = _("Draft version %(version)s written") % {"version": version}
        draft = {
            "id": self.w.ids.take(PolicyDraft),
            "process_id": self.row["id"],
            "version": version,
            "competition_section": rng.choice(names.COMPETITION_SECTIONS),
            "customer_section": rng.choice(names.CUSTOMER_SECTIONS),
            "other_text": "",
            "change_note": "" if version == 1 else rng.choice(names.CHANGE_COMMENTS),
            "created_by_id": self.lead.id,
            "created_at": at,
            "is_voided": False,
            "voided_reason": "",
        }
        self.drafts.append(draft)
        self.w.sink[PolicyDraft].add(draft)
        self._record(
            PolicyDraft, draft, None, at, actor, reason, Kind.DRAFT_WRITTEN,
            _("Draft version %(version)s") % {"version": version},
        )  # fmt: skip
        self._finish_task(self.open_task, at + 2 * MS, actor, _("Draft written"))
        self._open_task("request_approval", at + 3 * MS, actor)

    def op_request_approval(self, at, approvers: int) -> None:
        actor, reason = self.lead_actor, _("Approval requested")
        self._set_stage(Stage.AWAITING_APPROVAL, at, actor, reason)
        self._finish_task(self.open_task, at + MS, actor, reason)
        approval = self._open_task("approval", at + 2 * MS, actor, kind="FUNCTION")
        self.approval_task = approval
        self.links = []
        draft = self.drafts[-1]
        for number, contact in enumerate(self.approvers[:approvers]):
            when = at + (3 + number) * MS
            token_hash = hashlib.sha256(self.w.rng.randbytes(32)).hexdigest()
            link = {
                "id": self.w.ids.take(TaskLink),
                "task_id": approval["id"],
                "process_id": self.row["id"],
                "contact_id": contact["id"],
                "draft_id": draft["id"],
                "token_hash": token_hash,
                "created_at": when,
                "created_by_id": self.lead.id,
                "expires_at": when + datetime.timedelta(days=30),
                "revoke_reason": "",
            }
            self.links.append(link)
            self.all_links.append(link)
            people = self._contact_people(contact)
            self.link_snapshots[link["id"]] = self._record(
                TaskLink, link, None, when, actor,
                _("Task link sent to %(name)s") % {"name": contact["name"]},
                Kind.LINK_SENT, _("Task link sent to %(name)s") % {"name": f"⟦p:{contact['id']}⟧"},
                event_reason=_("Task link sent to %(name)s") % {"name": f"⟦p:{contact['id']}⟧"},
                people=people,
            )  # fmt: skip
            self._email(
                Event.APPROVAL_REQUESTED,
                f"link:{link['id']}",
                (contact["email"], contact["name"], contact["language"]),
                _("Please review the draft ASF policy for %(municipality)s")
                % {"municipality": self.place.name},
                when + MS,
                actor,
                people=people,
            )

    def _contact_actor(self, contact: dict) -> Actor:
        label = _("%(name)s (via task link)") % {"name": f"⟦p:{contact['id']}⟧"}
        return Actor(ActorKind.CONTACT, label=label, person_id=contact["id"])

    def op_link_opened(self, at, person: int) -> None:
        link = self.links[person]
        contact = self.approvers[person]
        # The GET of the emailed link (by the contact or their mail system), then the page.
        link["first_fetched_at"] = at - 50 * MS
        fetched = _("Task link to %(name)s fetched (by the recipient or their mail system)")
        self.link_snapshots[link["id"]] = self._record(
            TaskLink, link, self.link_snapshots[link["id"]], at - 50 * MS,
            Actor(ActorKind.SYSTEM, label=_("PolicyFlow")), _("Task link fetched"),
            Kind.LINK_FETCHED, fetched % {"name": f"⟦p:{contact['id']}⟧"},
        )  # fmt: skip
        link["first_opened_at"] = at
        shown = _("Task link to %(name)s shown in a browser")
        self.link_snapshots[link["id"]] = self._record(
            TaskLink, link, self.link_snapshots[link["id"]], at, self._contact_actor(contact),
            shown % {"name": contact["name"]}, Kind.LINK_OPENED,
            shown % {"name": f"⟦p:{contact['id']}⟧"},
            event_reason=shown % {"name": f"⟦p:{contact['id']}⟧"},
        )  # fmt: skip

    def op_reminder(self, at, person: int) -> None:
        contact = self.approvers[person]
        self._email(
            Event.APPROVAL_REMINDER,
            # The key the reminder job gives the week-after reminder (and looks for).
            reminder_key(self.approval_task["id"], AFTER),
            (contact["email"], contact["name"], contact["language"]),
            _("Reminder: the draft ASF policy for %(municipality)s is waiting for your answer")
            % {"municipality": self.place.name},
            at,
            Actor(ActorKind.SYSTEM, label=_("PolicyFlow")),
            people=self._contact_people(contact),
        )

    def op_answer(self, at, approved: bool) -> None:
        contact, link = self.approvers[0], self.links[0]
        actor = self._contact_actor(contact)
        placeholder = f"⟦p:{contact['id']}⟧"
        link["used_at"] = at
        link["first_opened_at"] = link.get("first_opened_at") or at
        self.link_snapshots[link["id"]] = self._record(
            TaskLink, link, self.link_snapshots[link["id"]], at, actor,
            _("Task link used by %(name)s") % {"name": contact["name"]}, Kind.LINK_USED,
            _("Task link used by %(name)s") % {"name": placeholder},
            event_reason=_("Task link used by %(name)s") % {"name": placeholder},
        )  # fmt: skip
        draft = self.drafts[-1]
        answer = {
            "id": self.w.ids.take(ApprovalAnswer),
            "process_id": self.row["id"],
            "draft_id": draft["id"],
            "contact_id": contact["id"],
            "answer": AnswerKind.APPROVED if approved else AnswerKind.CHANGES_REQUESTED,
            "comment": "" if approved else self.w.rng.choice(names.CHANGE_COMMENTS),
            "answered_at": at + MS,
            "via_link_id": link["id"],
            "recorded_by_id": None,
        }
        self.w.sink[ApprovalAnswer].add(answer)
        label = AnswerKind(answer["answer"]).label
        reason = _("%(answer)s by %(contact)s") % {"answer": label, "contact": contact["name"]}
        scrubbed = _("%(answer)s by %(contact)s") % {"answer": label, "contact": placeholder}
        if approved:
            summary = _("Draft version %(version)s approved by %(name)s")
        else:
            summary = _("Changes to draft version %(version)s requested by %(name)s")
        summary = summary % {"version": draft["version"], "name": placeholder}
        self._record(
            ApprovalAnswer, answer, None, at + MS, actor, reason, Kind.ANSWER_RECEIVED, summary,
            event_reason=scrubbed,
        )  # fmt: skip
        stage = Stage.AWAITING_DECISION if approved else Stage.DRAFTING
        self._set_stage(stage, at + 2 * MS, actor, reason, event_reason=scrubbed)
        self._finish_task(self.approval_task, at + 3 * MS, actor, reason, event_reason=scrubbed)
        self._gateway("is_approved", "EXCLUSIVE_GATEWAY", at + 4 * MS, actor)
        self._email(
            Event.ANSWER_RECEIVED,
            f"answer:{answer['id']}",
            (self.lead.email, self.lead.label, "sv"),
            _("%(municipality)s has answered on draft version %(version)s")
            % {"municipality": self.place.name, "version": draft["version"]},
            at + 10 * MS,
            actor,
            people=self._contact_people(contact),
        )
        self._open_task("decision" if approved else "draft", at + 12 * MS, actor)

    def op_decision(self, at, outcome: str) -> None:
        actor, rng = self.lead_actor, self.w.rng
        meeting = at.date() - datetime.timedelta(days=rng.randint(14, 40))
        settled = outcome in (Stage.ADOPTED, Stage.REJECTED)
        body = rng.choices(DecisionBody.values, weights=[35, 60, 5])[0]
        decision = {
            "id": self.w.ids.take(Decision),
            "process_id": self.row["id"],
            "body": body,
            "body_other": "Kommunstyrelsens arbetsutskott" if body == DecisionBody.OTHER else "",
            "meeting_date": meeting,
            "paragraph": str(rng.randint(1, 260)),
            "case_number": names.case_number(rng, meeting.year, self.place.code),
            "outcome": outcome,
            "notes": "",
            "minutes_url": f"https://{self.place.slug}.example/anslagstavla/{meeting:%Y-%m-%d}",
            "minutes_file": "",
            "recorded_by_id": self.lead.id,
            "recorded_at": at,
            "is_voided": False,
            "voided_reason": "",
        }
        if settled:
            certified = meeting + datetime.timedelta(days=rng.randint(7, 14))
            announced = certified + datetime.timedelta(days=rng.randint(0, 2))
            appeal = appeal_deadline(announced)
            decision.update(
                certification_date=certified,
                announcement_date=announced,
                appeal_deadline=appeal,
                legal_force_date=appeal + datetime.timedelta(days=1)
                if appeal < self.w.now.date()
                else None,
            )
        self.w.sink[Decision].add(decision)
        outcome_label = DecisionOutcome(outcome).label
        reason = _("Decision recorded: %(outcome)s") % {"outcome": outcome_label}
        self._record(
            Decision, decision, None, at, actor, reason, Kind.DECISION_RECORDED,
            f"{outcome_label}: {DecisionBody(body).label} {meeting}, § {decision['paragraph']} "
            f"({decision['case_number']})",
        )  # fmt: skip
        for number, member in enumerate(self.w.steering):
            self._email(
                Event.DECISION_RECORDED,
                f"decision:{decision['id']}",
                (member.email, member.label, "sv"),
                _("Decision recorded for %(municipality)s: %(outcome)s")
                % {"municipality": self.place.name, "outcome": outcome_label},
                at + (1 + number) * MS,
                actor,
            )
        stage = outcome if settled else Stage.DIALOGUE
        self._set_stage(stage, at + 20 * MS, actor, reason)
        self._finish_task(self.open_task, at + 21 * MS, actor, _("Decision recorded"))
        self._gateway("is_settled", "SWITCH", at + 22 * MS, actor)
        if settled:
            self._gateway("end", "END", at + 24 * MS, actor)
            self.row.update(status="DONE", finished=at + 25 * MS)
            self._process_history(
                at + 25 * MS, actor, reason, Kind.PROCESS_FINISHED, str(Stage(stage).label)
            )
        else:
            self._open_task("dialogue", at + 24 * MS, actor)

    # --- End ----------------------------------------------------------------------------------

    def finish(self) -> None:
        """Write the rows that changed while the process ran, in their final state."""
        sink = self.w.sink
        sink[Process].add(self.row)
        sink[PolicyProcess].add(self.row)
        for task in self.tasks:
            sink[Task].add(task)
        for link in self.all_links:
            sink[TaskLink].add(link)
