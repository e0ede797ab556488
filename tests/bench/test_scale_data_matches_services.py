"""The benchmark's data generator writes what the services write: one process walked through the
services (start, first contact, a meeting, the dialogue, a draft, an approval through the emailed
link, the decision), and the same walk played by the generator (`bench.scale_data`), compared
table by table: the history rows and audit events of each step, and every table's rows at the
end. A service that starts writing another row (or stops) fails here until the generator
follows."""

import datetime
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from bench.scale_data.plan import STEERING_GROUP_SIZE, Op
from bench.scale_data.rows import EventChain, Ids, Sink
from bench.scale_data.simulate import Place, ProcessSim, User, World, writing_order
from notifications import delivery as notification_delivery
from notifications.models import DeliveryStatus, Notification
from tests.factories import steering_of
from tests.workflows.helpers import decision_fields, open_task
from workflows import services
from workflows.models import PolicyProcess, Stage
from workflows.seeding import STEERING_GROUP

pytestmark = pytest.mark.django_db

# The walk, as the generator's operations name it.
WALK = [
    ("start", {}),
    ("first_contact", {}),
    ("meeting", {}),
    ("complete_dialogue", {}),
    ("write_draft", {}),
    ("request_approval", {"approvers": 1}),
    ("link_opened", {"person": 0}),
    ("answer", {"approved": True}),
    ("decision", {"outcome": Stage.ADOPTED}),
]
TABLES = writing_order()


def deliver_queued() -> None:
    """What the mail worker does: every queued email is sent."""
    queued = Notification.objects.filter(status=DeliveryStatus.QUEUED).order_by("pk")
    for pk in queued.values_list("pk", flat=True):
        notification_delivery.deliver(notification_id=pk)


def link_path(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1:8000" in url else url


class ServicesWalk:
    """The walk through the services, as users make it."""

    def __init__(self, leader, municipality, contact):
        self.leader, self.municipality, self.contact = leader, municipality, contact
        self.process = None
        self.links = []
        self.client = Client()

    def start(self):
        self.process = services.start_process(municipality=self.municipality, user=self.leader)

    def first_contact(self):
        services.record_first_contact(
            task=open_task(self.process, "contact"),
            user=self.leader,
            contacted_on=timezone.localdate(),
            channel="email",
            contacts=[self.contact],
            approvers=[self.contact],
        )

    def meeting(self):
        services.record_meeting(
            process=self.process,
            user=self.leader,
            held_on=timezone.localdate(),
            participants="Möte",
            notes="Anteckningar",
        )

    def complete_dialogue(self):
        services.complete_dialogue(task=open_task(self.process, "dialogue"), user=self.leader)

    def write_draft(self):
        services.write_draft(
            task=open_task(self.process, "draft"),
            user=self.leader,
            competition_section="Konkurrens",
            customer_section="Kund",
        )

    def request_approval(self, approvers):
        self.links = services.request_approval(
            task=open_task(self.process, "request_approval"),
            user=self.leader,
            approvers=[self.contact],
        )

    def link_opened(self, person):
        assert self.client.get(link_path(self.links[person].url)).status_code == 302
        assert self.client.get("/l/").status_code == 200

    def answer(self, approved):
        response = self.client.post("/l/", {"answer": "approved" if approved else "changes"})
        assert response.status_code == 303

    def decision(self, outcome):
        services.record_decision(
            task=open_task(self.process, "decision"),
            user=self.leader,
            **decision_fields(outcome),
        )


def counts() -> dict[str, int]:
    return {model._meta.db_table: model._default_manager.count() for model in TABLES}


def history_tables() -> set[str]:
    return {m._meta.db_table for m in TABLES if "_historical" in m._meta.db_table}


def services_walk(leader, municipality, contact) -> tuple[list, dict]:
    walk = ServicesWalk(leader, municipality, contact)
    steps, before_all = [], counts()
    for kind, args in WALK:
        before, last_event = counts(), AuditEvent.objects.order_by("-id").first()
        getattr(walk, kind)(**args)
        deliver_queued()
        after = counts()
        events = AuditEvent.objects.filter(id__gt=last_event.pk if last_event else 0)
        steps.append(
            (
                kind,
                {t: after[t] - before[t] for t in history_tables() if after[t] != before[t]},
                Counter(events.values_list("model_label", "kind")),
            )
        )
    end = counts()
    return steps, {t: end[t] - before_all[t] for t in end if end[t] != before_all[t]}


def generated_walk(leader, steering, municipality, contact) -> tuple[list, dict]:
    import random

    sink = Sink(TABLES)
    ids = Ids()
    for model in TABLES:
        ids.register(model)
    chain = EventChain(sink[AuditEvent], ids)
    place = Place(
        municipality.pk,
        municipality.name,
        municipality.code,
        municipality.county.code,
        "vaxjo",
        contacts=[
            {
                "id": contact.pk,
                "municipality_id": municipality.pk,
                "name": contact.name,
                "title": contact.title,
                "email": contact.email,
                "phone": contact.phone,
                "is_active": True,
                "language": contact.language,
            }
        ],
    )
    as_user = [User(u.pk, u.get_full_name(), u.email) for u in [leader, *steering]]
    world = World(
        rng=random.Random(1),
        sink=sink,
        ids=ids,
        chain=chain,
        leaders=as_user[:1],
        steering=as_user[1:],
        places=[place],
        now=timezone.now(),
    )
    sim = ProcessSim(world, place, as_user[0], approvers=1, op_count=len(WALK))
    at = timezone.now() - datetime.timedelta(days=30)
    steps = []
    kind_index = [f.attname for f in AuditEvent._meta.local_concrete_fields]
    label_at, kind_at = kind_index.index("model_label"), kind_index.index("kind")
    for order, (kind, args) in enumerate(WALK):
        before = {t.name: len(t.rows) for t in sink.tables.values()}
        events_before = len(chain.table.rows)
        sim.run(Op(at + datetime.timedelta(days=order), order, kind, args))
        rows = chain.table.rows[events_before:]
        steps.append(
            (
                kind,
                {
                    t.name: len(t.rows) - before[t.name]
                    for t in sink.tables.values()
                    if t.name in history_tables() and len(t.rows) != before[t.name]
                },
                Counter((row[label_at], row[kind_at]) for row in rows),
            )
        )
    return steps, {t.name: len(t.rows) for t in sink.tables.values() if t.rows}


def test_the_generator_writes_what_the_services_write_table_by_table(leader, vaxjo, vaxjo_contact):
    # The steering group is per county now (`notify.steering_group`): members of Kronoberg's
    # project, as the benchmark's seeding makes them members of every county's.
    steering = [steering_of("07", username=f"styrgrupp{n}") for n in range(STEERING_GROUP_SIZE)]
    group = Group.objects.get(name=STEERING_GROUP)
    for user in steering:
        user.groups.add(group)

    generated, generated_tables = generated_walk(leader, steering, vaxjo, vaxjo_contact)
    walked, walked_tables = services_walk(leader, vaxjo, vaxjo_contact)

    differences = [
        (kind, {"generated": gen, "services": walk})
        for (kind, *walk), (_kind, *gen) in zip(walked, generated, strict=True)
        if gen != walk
    ]
    assert differences == []
    assert generated_tables == walked_tables
    assert PolicyProcess.objects.get(municipality=vaxjo).stage == Stage.ADOPTED
