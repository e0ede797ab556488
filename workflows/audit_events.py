"""How the policy adoption's records read in the audit timeline, and the places and people it needs.

Registered with `audit.registry` from WorkflowsConfig.ready(). Workflows is the layer that knows
every audited model (its own, viewflow's Task, municipalities' Contact and notifications'
Notification), so the describing lives here and `audit` imports none of our apps.
"""

from collections.abc import Iterator
from pathlib import PurePath

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from audit import readable, registry
from audit.models import Kind
from audit.registry import Change, Description, Person, Place
from municipalities import access
from municipalities.models import Contact, County, CountyProject, Membership, Municipality
from notifications.models import DeliveryStatus, Event, Notification

from .flows import PolicyAdoptionFlow
from .models import (
    AnswerKind,
    ApprovalAnswer,
    Decision,
    FirstContact,
    Handover,
    HandoverKind,
    Meeting,
    PolicyDraft,
    PolicyProcess,
    PolicyTemplate,
    Stage,
    StageLimit,
    TaskLink,
    decision_body_label,
)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _person(contact_id, memo) -> tuple[int, Person] | None:
    if contact_id is None:
        return None
    key = ("contact", contact_id)
    if key not in memo:
        row = Contact.objects.filter(pk=contact_id).values_list("name", "email").first()
        memo[key] = Person(*row) if row else None
    person = memo[key]
    return (contact_id, person) if person else None


def _voided(change: Change, what: str) -> Description | None:
    if change.became("is_voided", True):
        return Description(
            kind=Kind.RECORD_VOIDED,
            summary=_("%(what)s voided") % {"what": what},
        )
    return None


# --- Describers -------------------------------------------------------------------------------


def describe_process(change: Change) -> Description:
    record = change.record
    if change.is_created:
        return Description(kind=Kind.PROCESS_STARTED, summary=_("Policy process started"))
    if change.became("stage"):
        old, new = change.changes["stage"]
        return Description(
            kind=Kind.STAGE_CHANGED,
            summary=_("Stage: %(old)s → %(new)s")
            % {"old": _label(Stage, old), "new": _label(Stage, new)},
        )
    if change.became("approvers"):
        # Who will approve the draft, by name (kept apart as personal data, like every name).
        chosen = [_person(pk, change.memo) for pk in change.changes["approvers"][1] or []]
        people = dict(p for p in chosen if p)
        names = ", ".join(person.name for person in people.values()) or "–"
        return Description(
            kind=Kind.APPROVERS_CHOSEN,
            summary=_("Contact persons who approve: %(names)s") % {"names": names},
            people=people,
        )
    if change.became("status") and record.status == STATUS.DONE:
        # How it ended: the stage it closed in ("Policy adopted").
        return Description(kind=Kind.PROCESS_FINISHED, summary=_label(Stage, record.stage))
    fields = ", ".join(sorted(change.changes)) or "–"
    return Description(
        kind=Kind.PROCESS_CHANGED, summary=_("Changed: %(fields)s") % {"fields": fields}
    )


_STEP_KINDS = {
    STATUS.ASSIGNED: Kind.STEP_ASSIGNED,
    STATUS.STARTED: Kind.STEP_STARTED,
    STATUS.DONE: Kind.STEP_COMPLETED,
    STATUS.CANCELED: Kind.STEP_CANCELLED,
}


def describe_task(change: Change) -> Description | None:
    record = change.record
    node = record.flow_task
    if getattr(node, "flow_class", None) is not PolicyAdoptionFlow:
        return None  # another flow's task: generic description
    title = str(getattr(node, "task_title", "") or getattr(node, "name", "") or node)
    if change.is_created:
        kind = Kind.STEP_OPENED
    elif change.became("status"):
        kind = _STEP_KINDS.get(record.status, Kind.STEP_CHANGED)
    else:
        kind = Kind.STEP_CHANGED
    return Description(kind=kind, summary=title)


def _user_names(ids, memo) -> dict:
    from django.contrib.auth import get_user_model

    missing = [pk for pk in ids if pk is not None and ("user", pk) not in memo]
    if missing:
        for user in get_user_model().objects.filter(pk__in=missing):
            memo[("user", user.pk)] = user.get_full_name() or user.get_username()
    return {pk: memo.get(("user", pk), "–") for pk in ids if pk is not None}


def describe_handover(change: Change) -> Description:
    """In people's words: "Anna Ek handed the step “Write the draft” over to Bo Ljung: …"."""
    record = change.record
    names = _user_names([record.by_id, record.from_user_id, record.to_user_id], change.memo)
    words = {
        "by": names.get(record.by_id, "–"),
        "from": names.get(record.from_user_id, "–"),
        "to": names.get(record.to_user_id, "–"),
    }
    if record.task_id is not None:
        words["step"] = readable.names_of(Task, [record.task_id]).get(record.task_id, "–")
    if record.kind == HandoverKind.CLAIMED:
        summary = _("%(by)s claimed the step “%(step)s”") % words
    elif record.kind == HandoverKind.PROCESS:
        if record.from_user_id in (None, record.by_id):
            summary = _("%(by)s handed the process over to %(to)s") % words
        else:
            summary = _("%(by)s handed the process over from %(from)s to %(to)s") % words
    elif record.from_user_id is None:
        summary = _("%(by)s gave the unassigned step “%(step)s” to %(to)s") % words
    elif record.from_user_id == record.by_id:
        summary = _("%(by)s handed the step “%(step)s” over to %(to)s") % words
    else:
        summary = _("%(by)s handed the step “%(step)s” over from %(from)s to %(to)s") % words
    if record.note:
        summary = f"{summary}: {record.note}"
    kind = Kind.PROCESS_CHANGED if record.kind == HandoverKind.PROCESS else Kind.STEP_ASSIGNED
    return Description(kind=kind, summary=summary, process_id=record.process_id)


def describe_first_contact(change: Change) -> Description:
    record = change.record
    if change.is_created:
        return Description(
            kind=Kind.CONTACT_RECORDED,
            summary=_("First contact (%(channel)s) on %(date)s")
            % {"channel": record.get_channel_display(), "date": record.contacted_on},
        )
    if change.became("contacts"):
        return Description(kind=Kind.CONTACT_RECORDED, summary=_("Persons reached recorded"))
    return Description(kind=Kind.RECORD_CHANGED, summary=_("First contact changed"))


def describe_meeting(change: Change) -> Description:
    what = _("Meeting on %(date)s") % {"date": change.record.held_on}
    if change.is_created:
        return Description(kind=Kind.MEETING_RECORDED, summary=what)
    return _voided(change, what) or Description(kind=Kind.RECORD_CHANGED, summary=what)


def describe_draft(change: Change) -> Description:
    what = _("Draft version %(version)s") % {"version": change.record.version}
    if change.is_created:
        return Description(kind=Kind.DRAFT_WRITTEN, summary=what)
    return _voided(change, what) or Description(kind=Kind.RECORD_CHANGED, summary=what)


def describe_answer(change: Change) -> Description:
    record = change.record
    version = (
        PolicyDraft.objects.filter(pk=record.draft_id).values_list("version", flat=True).first()
    )
    person = _person(record.contact_id, change.memo)
    if record.answer == AnswerKind.APPROVED:
        summary = _("Draft version %(version)s approved by %(name)s")
    else:
        summary = _("Changes to draft version %(version)s requested by %(name)s")
    description = Description(
        kind=Kind.ANSWER_RECEIVED if change.is_created else Kind.RECORD_CHANGED,
        summary=summary % {"version": version, "name": person[1].name if person else "–"},
        people=dict([person]) if person else {},
    )
    if record.via_link_id and person:
        description.actor_person_id = person[0]
    elif record.recorded_by_id:
        description.actor_user_id = record.recorded_by_id
    return description


def describe_decision(change: Change) -> Description:
    record = change.record
    what = _("%(outcome)s by %(body)s on %(date)s, § %(paragraph)s (%(case)s)") % {
        "outcome": record.get_outcome_display(),
        "body": decision_body_label(record),
        "date": record.meeting_date,
        "paragraph": record.paragraph,
        "case": record.case_number,
    }
    if change.is_created:
        return Description(kind=Kind.DECISION_RECORDED, summary=what)
    return _voided(change, _("Decision %(what)s") % {"what": what}) or Description(
        kind=Kind.RECORD_CHANGED, summary=what
    )


def describe_task_link(change: Change) -> Description:
    record = change.record
    person = _person(record.contact_id, change.memo)
    people = dict([person]) if person else {}
    name = person[1].name if person else "–"
    if change.is_created:
        return Description(
            kind=Kind.LINK_SENT,
            summary=_("Task link sent to %(name)s") % {"name": name},
            people=people,
        )
    if change.was_set("used_at"):
        return Description(
            kind=Kind.LINK_USED,
            summary=_("Task link used by %(name)s") % {"name": name},
            people=people,
            actor_person_id=person[0] if person else None,
        )
    if change.was_set("first_opened_at"):
        return Description(
            kind=Kind.LINK_OPENED,
            summary=_("Task link to %(name)s shown in a browser") % {"name": name},
            people=people,
            actor_person_id=person[0] if person else None,
        )
    if change.was_set("first_fetched_at"):
        # Not the contact's act: a mail system scanning the email fetches the link too.
        return Description(
            kind=Kind.LINK_FETCHED,
            summary=_("Task link to %(name)s fetched (by the recipient or their mail system)")
            % {"name": name},
            people=people,
        )
    if change.was_set("revoked_at"):
        return Description(
            kind=Kind.LINK_REVOKED,
            summary=_("Task link of %(name)s revoked: %(why)s")
            % {"name": name, "why": record.revoke_reason},
            people=people,
        )
    return Description(kind=Kind.RECORD_CHANGED, summary=_("Task link changed"), people=people)


def describe_contact(change: Change) -> Description:
    record = change.record
    # Former names and emails stay in the personal part's changes.
    people = {record.id: Person(record.name, record.email)}
    if change.is_created:
        return Description(
            kind=Kind.CONTACT_PERSON_ADDED,
            summary=_("Contact person %(name)s added") % {"name": record.name},
            people=people,
            municipality_id=record.municipality_id,
        )
    return Description(
        kind=Kind.CONTACT_PERSON_CHANGED,
        summary=_("Contact person %(name)s changed: %(fields)s")
        % {"name": record.name, "fields": ", ".join(sorted(change.changes)) or "–"},
        people=people,
        municipality_id=record.municipality_id,
    )


def _process_from_topic(topic: str) -> int | None:
    kind, _sep, value = (topic or "").partition(":")
    return int(value) if kind == "process" and value.isdigit() else None


# Each email's event names its kind (`get_event_display` would build this dict per record).
_EVENT_LABELS = dict(Event.choices)


def describe_notification(change: Change) -> Description:
    record = change.record
    what = {"event": _EVENT_LABELS.get(record.event, record.event)}
    process_id = _process_from_topic(record.topic)
    if change.is_created:
        kind, summary = Kind.NOTIFICATION_QUEUED, _("Email queued: %(event)s")
    elif change.became("status", DeliveryStatus.SENT):
        kind, summary = Kind.NOTIFICATION_SENT, _("Email sent: %(event)s")
    elif change.became("status", DeliveryStatus.FAILED):
        kind, summary = Kind.NOTIFICATION_FAILED, _("Email failed: %(event)s")
    elif change.became("status", DeliveryStatus.QUEUED):
        kind, summary = Kind.NOTIFICATION_REQUEUED, _("Email queued again: %(event)s")
    elif change.became("attempts"):
        kind, summary = Kind.NOTIFICATION_RETRYING, _("Email attempt failed: %(event)s")
    else:
        kind, summary = Kind.RECORD_CHANGED, _("Email changed: %(event)s")
    return Description(kind=kind, summary=summary % what, process_id=process_id)


def describe_municipality(change: Change) -> Description:
    return Description(municipality_id=change.record.id)


def describe_county_project(change: Change) -> Description:
    record = change.record
    code = County.objects.filter(pk=record.county_id).values_list("code", flat=True).first()
    return Description(county_code=code or "")


def describe_membership(change: Change) -> Description:
    record = change.record
    place = change.memo.get(("project", record.project_id))
    if place is None:
        place = (
            CountyProject.objects.filter(pk=record.project_id)
            .values_list("name", "county__code")
            .first()
        ) or ("", "")
        change.memo[("project", record.project_id)] = place
    User = get_user_model()
    user = User.objects.filter(pk=record.user_id).first()
    what = {
        "user": (user.get_full_name() or user.get_username()) if user else record.user_id,
        "role": _label(Membership.Role, record.role),
        "project": place[0],
    }
    if change.is_created:
        summary = _("%(user)s joined %(project)s as %(role)s") % what
    elif change.is_deleted:
        summary = _("%(user)s left %(project)s (was %(role)s)") % what
    else:
        summary = _("%(user)s is now %(role)s in %(project)s") % what
    return Description(summary=summary, county_code=place[1])


# --- Names of rows that changes point at (read together: one query per page) -----------------
# Each as `registry.NameRows`, which the trail reads with the other models' names in one
# statement.

process_names = registry.NameRows(
    rows=PolicyProcess.objects,
    texts=("municipality__name",),
    name=lambda municipality: _("ASF policy – %(municipality)s") % {"municipality": municipality},
)


def _step_name(reference: str, pk: str) -> str:
    """A step by its title in the flow ("Record the decision"), as the process page names it:
    its node found from the stored reference as the field reads it (a node the flow no longer
    has: the step's id)."""
    try:
        node = Task._meta.get_field("flow_task").to_python(reference)
    except ImportError:
        node = None
    title = getattr(node, "task_title", "") or getattr(node, "name", "") or node
    return str(title or pk)


task_names = registry.NameRows(
    rows=Task.objects,
    # The stored reference as text (the field would read it into the flow's node).
    texts=(Cast("flow_task", models.CharField()), Cast("pk", models.CharField())),
    name=_step_name,
)


# A draft by its version ("Draft v2"), as its own name reads, without reading its text.
draft_names = registry.NameRows(
    rows=PolicyDraft.objects,
    texts=(Cast("version", models.CharField()),),
    name=lambda version: str(_("Draft v%(version)s") % {"version": version}),
)

task_link_names = registry.NameRows(
    rows=TaskLink.objects,
    texts=("contact__name",),
    name=lambda contact: _("Task link for %(contact)s") % {"contact": contact},
)

answer_names = registry.NameRows(
    rows=ApprovalAnswer.objects,
    texts=("answer", "contact__name"),
    name=lambda answer, contact: f"{_label(AnswerKind, answer)} ({contact})",
)


# --- The directory of places and people -------------------------------------------------------


class ContactDirectory:
    """Municipalities and their contact persons, for the audit trail."""

    person_model = Contact

    def place(self, municipality_id, memo):
        row = (
            Municipality.objects.filter(pk=municipality_id)
            .values_list("name", "county__code")
            .first()
        )
        return Place(*row) if row else None

    def people(self, municipality_id, memo):
        return {
            pk: Person(name, email)
            for pk, name, email in Contact.objects.filter(
                municipality_id=municipality_id
            ).values_list("pk", "name", "email")
        }

    def places(self):
        # The timeline's filters list the counties and municipalities on every page: the county
        # structure, which only an administrator changes, is read once and then kept under
        # everyone's access version (`access.county_fact`; a saved county or municipality
        # replaces it), instead of two statements a page.
        return access.county_fact(
            "places",
            lambda: (
                list(County.objects.order_by("code").values_list("code", "name")),
                list(
                    Municipality.objects.order_by("name").values_list("pk", "name", "county__code")
                ),
            ),
        )

    def user_ids_in_counties(self, county_codes):
        """Users with a role in any of the counties (the audit's actor filter offers them)."""
        from municipalities.models import Membership

        return Membership.objects.filter(project__county__code__in=county_codes).values("user_id")

    def stage_label(self, code):
        return _label(Stage, code)

    def person(self, pk):
        return Contact.objects.select_related("municipality").get(pk=pk)

    def person_names(self, person):
        seen, names = set(), []
        rows = [(person.name, person.email)] + list(
            person.history.order_by("-history_id").values_list("name", "email")
        )
        for name, email in rows:
            if (name, email) not in seen:
                seen.add((name, email))
                names.append(Person(name, email))
        return names

    def personal_records(self, person):
        def rows(qs, *fields):
            return [
                {k: registry.json_safe(v) for k, v in row.items()} for row in qs.values(*fields)
            ]

        history = ("history_id", "history_date", "history_type", "history_change_reason")
        emails = {n.email for n in self.person_names(person) if n.email}
        return {
            "contact": rows(
                Contact.objects.filter(pk=person.pk),
                "id",
                "name",
                "title",
                "email",
                "phone",
                "is_active",
                "language",
                "municipality__name",
            ),
            "contact_history": rows(
                person.history.order_by("history_id"),
                *history,
                "name",
                "title",
                "email",
                "phone",
                "is_active",
                "language",
            ),
            "first_contacts": rows(
                FirstContact.objects.filter(contacts=person).order_by("pk"),
                "id",
                "process_id",
                "contacted_on",
                "channel",
                "notes",
            ),
            "approver_of_processes": rows(
                PolicyProcess.objects.filter(approvers=person).order_by("pk"),
                "id",
                "municipality__name",
                "stage",
            ),
            "approval_answers": rows(
                ApprovalAnswer.objects.filter(contact=person).order_by("pk"),
                "id",
                "process_id",
                "draft__version",
                "answer",
                "comment",
                "answered_at",
            ),
            "approval_answers_history": rows(
                ApprovalAnswer.history.filter(contact_id=person.pk).order_by("history_id"),
                *history,
                "id",
                "answer",
                "comment",
            ),
            "task_links": rows(
                TaskLink.objects.filter(contact=person).order_by("pk"),
                "id",
                "process_id",
                "draft__version",
                "created_at",
                "expires_at",
                "first_fetched_at",
                "first_opened_at",
                "used_at",
                "revoked_at",
                "revoke_reason",
            ),
            "notifications": rows(
                Notification.objects.filter(recipient_email__in=emails).order_by("pk"),
                "id",
                "event",
                "recipient_name",
                "recipient_email",
                "subject",
                "body_text",
                "status",
                "created_at",
                "sent_at",
            ),
            "notifications_history": rows(
                Notification.history.filter(recipient_email__in=emails).order_by("history_id"),
                *history,
                "id",
                "recipient_name",
                "recipient_email",
                "subject",
                "status",
            ),
        }

    def pseudonymise_person(self, person, pseudonym):
        fields = {"name": pseudonym.name, "email": pseudonym.email, "phone": "", "title": ""}
        Contact.objects.filter(pk=person.pk).update(is_active=False, **fields)
        Contact.history.filter(id=person.pk).update(**fields)


# viewflow's bookkeeping on processes and steps: kept in the record, not listed for people.
_ENGINE_FIELDS = [
    "data",
    "seed_content_type",
    "seed_object_id",
    "artifact_content_type",
    "artifact_object_id",
]


def register() -> None:
    registry.register(
        PolicyProcess,
        describe=describe_process,
        names=process_names,
        internal_fields=[*_ENGINE_FIELDS, "flow_class", "parent_task"],
    )
    # Where a step points at its process (viewflow's Process, the same row).
    registry.register(Process, names=process_names)
    registry.register(
        Task,
        describe=describe_task,
        names=task_names,
        internal_fields=[*_ENGINE_FIELDS, "flow_task_type", "token", "owner_permission"]
        + ["owner_permission_content_type", "owner_permission_obj_pk", "external_task_id"],
    )
    registry.register(Handover, describe=describe_handover, internal_fields=["batch"])
    registry.register(FirstContact, describe=describe_first_contact, personal_fields=["notes"])
    registry.register(Meeting, describe=describe_meeting, personal_fields=["participants", "notes"])
    registry.register(PolicyDraft, describe=describe_draft, names=draft_names)
    registry.register(ApprovalAnswer, describe=describe_answer, names=answer_names)
    registry.register(Decision, describe=describe_decision)
    registry.register(TaskLink, describe=describe_task_link, names=task_link_names)
    registry.register(
        Contact,
        describe=describe_contact,
        personal_fields=["name", "title", "email", "phone"],
    )
    registry.register(
        Notification,
        describe=describe_notification,
        personal_fields=["recipient_email", "recipient_name", "idempotency_key"],
        # The topic is the outbox's own key ("process:12"): the event is filed there already.
        internal_fields=["topic"],
    )
    registry.register(Municipality, describe=describe_municipality, mentions_people=False)
    registry.register(County, mentions_people=False)
    registry.register(CountyProject, describe=describe_county_project, mentions_people=False)
    registry.register(Membership, describe=describe_membership, mentions_people=False)
    registry.register(PolicyTemplate, mentions_people=False)
    registry.register(StageLimit, mentions_people=False)
    registry.set_directory(ContactDirectory())
    registry.register_attachments(minutes_files)


def minutes_files(events) -> Iterator[registry.Attachment]:
    """The minutes files of the decisions the exported events are about, for the archive."""
    ids = {
        int(pk)
        for pk in events.filter(model_label=Decision._meta.label_lower)
        .values_list("object_id", flat=True)
        .distinct()
        if pk.isdigit()
    }
    decisions = Decision.objects.filter(pk__in=ids).exclude(minutes_file="").order_by("pk")
    for decision in decisions.iterator():
        extension = PurePath(decision.minutes_file.name).suffix
        yield registry.Attachment(
            name=f"minutes/decision-{decision.pk}{extension}",
            open=decision.minutes_file.open,
            meta={
                "decision_id": decision.pk,
                "recorded_sha256": decision.minutes_sha256,
                "original_name": decision.minutes_file_name,
            },
        )
