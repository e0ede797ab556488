"""The contract with django-simple-history's undocumented attributes (`audit.upstream`): fails
the day an upgrade changes them, before the audit trail silently loses many-to-many changes or
the pseudonymisation misses a table."""

from viewflow.workflow.models import Task

from audit import upstream
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
