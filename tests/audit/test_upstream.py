"""The contract with django-simple-history's undocumented attributes (`audit.upstream`): fails
the day an upgrade changes them, before the audit trail silently loses many-to-many changes or
the pseudonymisation misses a table."""

import json

import pgtrigger
import psycopg
import pytest
from django.db import DatabaseError, ProgrammingError, connection, transaction
from viewflow.workflow.models import Task

from audit import services, upstream
from audit.models import AuditEvent, Kind
from municipalities.models import Contact, Municipality
from workflows.models import FirstContact, PolicyProcess


def test_history_models_name_the_many_to_many_fields_they_record():
    approvers = PolicyProcess._meta.get_field("approvers")
    contacts = FirstContact._meta.get_field("contacts")
    assert upstream.recorded_m2m_fields(PolicyProcess.history.model) == [approvers]
    assert upstream.recorded_m2m_fields(FirstContact.history.model) == [contacts]
    assert upstream.recorded_m2m_fields(Contact.history.model) == []


def test_audited_models_are_told_from_the_others():
    assert all(upstream.is_audited(m) for m in (PolicyProcess, Contact, Municipality, Task))
    assert not upstream.is_audited(PolicyProcess.history.model)
    from audit.models import AuditEvent

    assert not upstream.is_audited(AuditEvent)


def test_the_outbox_history_manager_class_is_built_once_and_still_reads_one_rows_history(db):
    """`audit.history.OnceBuiltHistoryManager` relies on simple-history handing out
    `Model.history` through `history_manager.from_queryset(...)` on each access (its
    `HistoryDescriptor`): the day that changes, the saving is gone and this fails."""
    from notifications.models import Event, Notification
    from notifications.outbox import queue_notification

    first, second = (
        queue_notification(
            event=Event.TASK_ASSIGNED,
            recipient_email=f"person{n}@region.example",
            recipient_name=f"Person {n}",
            language="sv",
            context={"municipality": "Växjö", "task_title": "Skriv utkastet", "task_url": "/"},
            key=f"contract:{n}",
            topic="contract",
        )
        for n in (1, 2)
    )
    assert type(first.history) is type(second.history)  # one class, not one per access
    assert type(Notification.history) is type(first.history)
    assert [record.id for record in first.history.all()] == [first.pk]
    assert first.history.first().prev_record is None


def test_every_audited_models_history_manager_class_is_built_once():
    """Each audited save reads its model's history manager twice (the record written, its
    `prev_record` for the event's change): every audited model, the flow's Task included, uses
    `OnceBuiltHistoryManager`, or each read builds the manager's class anew."""
    from django.apps import apps

    from audit.history import OnceBuiltHistoryManager

    audited = [model for model in apps.get_models() if upstream.is_audited(model)]
    assert Task in audited and PolicyProcess in audited
    for model in audited:
        manager = getattr(model, model._meta.simple_history_manager_attribute)
        assert isinstance(manager, OnceBuiltHistoryManager), model
        assert type(manager) is type(getattr(model, model._meta.simple_history_manager_attribute))


# Every kind of value the audit trail can hold (decoded JSON, rows' texts and numbers), and the
# ones the encoder spells in its own way (floats, escapes, non-ASCII keys, big integers).
_JSON_VALUES = [
    {},
    [],
    (),
    "",
    {"b": [1, "två"], "a": {"ö": None, "o": True, "ä": False}, "A": ("x", [])},
    [0.1, 1.5, -0.0, 0.0, 1e16, 1e15, 123456789.123, 1e-7, 1e-4, 5e-324, 1.7976931348623157e308],
    [10**30, -(2**63), 2**64, 0, -1],
    "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u2029é⟦p:1⟧😀',
    {"\n": 1, "é": 2, "e": 3, "😀": 4, "": 5},
    [[["deep", [{"k": [1.25, None]}]]]],
]


# The audit chain's canonical form, and the CSV export's changes cell.
_OPTIONS = [
    {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False},
    {"sort_keys": True, "ensure_ascii": False},
]


@pytest.mark.parametrize("options", _OPTIONS)
@pytest.mark.parametrize("value", _JSON_VALUES)
def test_the_json_encoder_writes_what_jsons_own_encoder_writes(value, options):
    built = upstream.json_encoder(allow_nan=False, **options)
    assert built(value) == json.JSONEncoder(allow_nan=False, **options).encode(value)
    assert built({"v": value}) == json.dumps({"v": value}, **options)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [float("-inf")]])
def test_the_json_encoder_refuses_what_jsons_own_encoder_refuses(value):
    built = upstream.json_encoder(sort_keys=True, separators=(",", ":"), allow_nan=False)
    with pytest.raises(ValueError):
        json.JSONEncoder(allow_nan=False).encode(value)
    with pytest.raises(ValueError):
        built(value)


# --- django-pgtrigger's ignore with statements prepared on the server ----------------------------

_ON_POSTGRESQL = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="statements are prepared on PostgreSQL only"
)
_EVENT_TRIGGERS = ("audit.AuditEvent:append_only", "audit.AuditEvent:chain_immutable")


def _an_event(summary: str) -> AuditEvent:
    return services.append_event(
        kind=Kind.PROCESS_CHANGED, summary=summary, model_label="tests.upstream"
    )


@_ON_POSTGRESQL
def test_postgresql_prepares_the_statements_a_connection_repeats(db):
    """The settings bind statements on the server (`DATABASE_PREPARE_THRESHOLD`): a statement
    run a few times on a connection is prepared and planned once."""
    repeated = Municipality.objects.filter(code="0780", name__startswith="Väx")
    for _ in range(6):
        assert list(repeated.values_list("name", flat=True)) == ["Växjö"]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"municipalities_municipality"."code" = $1 AND%LIKE%'],
        )
        assert [row[0] for row in cursor.fetchall()]


@_ON_POSTGRESQL
def test_pgtrigger_ignore_alone_sends_two_statements_in_one_which_postgresql_refuses(db):
    """What `upstream.ignoring_triggers` works around: the day this fails, pgtrigger no longer
    prefixes each statement, and the switch of cursors can go."""
    event = _an_event("Före")
    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        pgtrigger.ignore(*_EVENT_TRIGGERS),
    ):
        AuditEvent.objects.filter(pk=event.pk).update(summary="Efter")

    # The refusal comes first; pgtrigger's own clean-up then fails in the aborted transaction.
    errors, error = [], raised.value
    while error is not None:
        errors.append(str(error))
        error = error.__context__
    assert any("cannot insert multiple commands" in text for text in errors)
    assert AuditEvent.objects.get(pk=event.pk).summary == "Före"


@_ON_POSTGRESQL
def test_ignoring_triggers_lifts_them_for_the_block_only(db):
    event = _an_event("Före")

    with transaction.atomic(), upstream.ignoring_triggers(*_EVENT_TRIGGERS):
        AuditEvent.objects.filter(pk=event.pk).update(summary="Efter")

    assert AuditEvent.objects.get(pk=event.pk).summary == "Efter"
    # Outside the block the triggers refuse again, and statements are bound on the server again.
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="Igen")
    assert not issubclass(connection.connection.cursor_factory, psycopg.ClientCursor)
